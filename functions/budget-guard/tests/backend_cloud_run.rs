//! Cloud Run scaling through the official client's stub trait (Cloud Run has no emulator):
//! the exact update requests (name, etag, update mask, scaling), nothing but `scaling` sent,
//! stale etags retried from a fresh read, conflicts reported without a write.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use budget_guard::backends::cloud_run::{CloudRun, CloudRunSettings};
use budget_guard::backends::{Backend, BackendError, Change, Restored};
use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_longrunning::model::Operation;
use google_cloud_run_v2::client::Services;
use google_cloud_run_v2::model::service_scaling::ScalingMode;
use google_cloud_run_v2::model::{
    GetServiceRequest, RevisionTemplate, Service, ServiceScaling, UpdateServiceRequest,
};
use google_cloud_run_v2::{stub, Error, Result};
use google_cloud_wkt::FieldMask;

const NAME: &str = "projects/acme/locations/europe-west1/services/env-demo";

/// One service; every update recorded; the etag changes with every write.
#[derive(Debug)]
struct FakeRun {
    service: Mutex<Service>,
    updates: Mutex<Vec<UpdateServiceRequest>>,
    version: Mutex<u32>,
    /// Another writer changes the service (a new etag) just before our next N updates land.
    raced: Mutex<u32>,
}

impl FakeRun {
    fn new(scaling: ServiceScaling) -> Arc<Self> {
        let labels = HashMap::from([("managed-by".to_owned(), "groundskeeper".to_owned())]);
        let service = Service::new()
            .set_name(NAME)
            .set_etag("etag-1")
            .set_description("a preview")
            .set_labels(labels)
            .set_template(RevisionTemplate::new().set_service_account("sa@acme"))
            .set_scaling(scaling);
        Arc::new(Self {
            service: Mutex::new(service),
            updates: Mutex::default(),
            version: Mutex::new(1),
            raced: Mutex::new(0),
        })
    }

    fn backend(self: &Arc<Self>) -> CloudRun {
        CloudRun::new(Services::from_stub::<Self>(Arc::clone(self)))
    }

    fn bump_etag(&self, service: &mut Service) {
        let mut version = self.version.lock().unwrap();
        *version += 1;
        service.etag = format!("etag-{version}");
    }

    /// Someone else sets the scaling.
    fn set_scaling(&self, scaling: ServiceScaling) {
        let mut service = self.service.lock().unwrap();
        service.scaling = Some(scaling);
        self.bump_etag(&mut service);
    }

    fn updates(&self) -> Vec<UpdateServiceRequest> {
        self.updates.lock().unwrap().clone()
    }
}

fn error(code: Code) -> Error {
    Error::service(Status::default().set_code(code).set_message("fake"))
}

impl stub::Services for FakeRun {
    async fn get_service(
        &self,
        r: GetServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Service>> {
        assert_eq!(r.name, NAME);
        Ok(Response::from(self.service.lock().unwrap().clone()))
    }

    async fn update_service(
        &self,
        r: UpdateServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Operation>> {
        self.updates.lock().unwrap().push(r.clone());
        let mut service = self.service.lock().unwrap();
        {
            let mut raced = self.raced.lock().unwrap();
            if *raced > 0 {
                *raced -= 1;
                self.bump_etag(&mut service);
            }
        }
        let sent = r.service.unwrap();
        if sent.etag != service.etag {
            return Err(error(Code::Aborted));
        }
        service.scaling = sent.scaling;
        self.bump_etag(&mut service);
        let any = google_cloud_wkt::Any::from_msg(&*service).unwrap();
        let done = Operation::new().set_name("operations/1").set_done(true);
        Ok(Response::from(done.set_response(any)))
    }
}

fn scaling(min: i32, max: i32) -> ServiceScaling {
    ServiceScaling::new()
        .set_min_instance_count(min)
        .set_max_instance_count(max)
        .set_scaling_mode(ScalingMode::Automatic)
}

/// The only request budget-guard may send: name, etag, scaling, mask `["scaling"]`.
fn update(etag: &str, scaling: ServiceScaling) -> UpdateServiceRequest {
    let service = Service::new()
        .set_name(NAME)
        .set_etag(etag)
        .set_scaling(scaling);
    UpdateServiceRequest::new()
        .set_service(service)
        .set_update_mask(FieldMask::default().set_paths(["scaling"]))
}

fn cap(max: u32) -> Change {
    Change::Cap {
        max_instances: max.try_into().unwrap(),
    }
}

#[tokio::test]
async fn cap_then_restore_sends_only_scaling_and_puts_back_the_exact_previous() {
    let run = FakeRun::new(scaling(2, 10));
    let original = run.service.lock().unwrap().clone();
    let backend = run.backend();

    let previous = backend.read(NAME).await.unwrap();
    assert_eq!(previous.scaling.min_instance_count, 2);
    assert_eq!(previous.scaling.max_instance_count, 10);
    assert_eq!(backend.labels(&previous)["managed-by"], "groundskeeper");
    let journaled = serde_json::to_value(&previous).unwrap();
    assert_eq!(
        journaled["scaling"]["scaling_mode"], "AUTOMATIC",
        "journaled by name"
    );
    let read_back: CloudRunSettings = serde_json::from_value(journaled).unwrap();
    assert_eq!(read_back, previous);

    let applied = backend.apply(NAME, &previous, &cap(3)).await.unwrap();
    assert_eq!(run.updates(), [update("etag-1", scaling(0, 3))]);
    assert_eq!(applied.scaling.max_instance_count, 3);

    let restored = backend.restore(NAME, &previous, &applied).await.unwrap();
    assert_eq!(restored, Restored::Done);
    assert_eq!(run.updates()[1], update("etag-2", scaling(2, 10)));
    let after = run.service.lock().unwrap().clone();
    assert_eq!(
        after,
        original.set_etag("etag-3"),
        "only scaling ever changed"
    );
}

#[tokio::test]
async fn a_cap_never_raises_a_lower_maximum_and_an_unset_one_gets_the_cap() {
    let lower = FakeRun::new(scaling(1, 2));
    let backend = lower.backend();
    let previous = backend.read(NAME).await.unwrap();
    backend.apply(NAME, &previous, &cap(5)).await.unwrap();
    assert_eq!(lower.updates(), [update("etag-1", scaling(0, 2))]);

    let unset = FakeRun::new(scaling(1, 0));
    let backend = unset.backend();
    let previous = backend.read(NAME).await.unwrap();
    backend.apply(NAME, &previous, &cap(5)).await.unwrap();
    assert_eq!(unset.updates(), [update("etag-1", scaling(0, 5))]);
}

#[tokio::test]
async fn stop_scales_to_the_floor_and_manual_mode_to_zero_instances() {
    let auto = FakeRun::new(scaling(3, 0));
    let backend = auto.backend();
    let previous = backend.read(NAME).await.unwrap();
    backend.apply(NAME, &previous, &Change::Stop).await.unwrap();
    // Not 0: a maximum of 0 is omitted on the wire and means no limit.
    assert_eq!(auto.updates(), [update("etag-1", scaling(0, 1))]);

    let manual = |n| {
        (ServiceScaling::new().set_scaling_mode(ScalingMode::Manual)).set_manual_instance_count(n)
    };
    let fixed = FakeRun::new(manual(4));
    let backend = fixed.backend();
    let previous = backend.read(NAME).await.unwrap();
    let applied = backend.apply(NAME, &previous, &Change::Stop).await.unwrap();
    let stopped = manual(0).set_max_instance_count(1);
    assert_eq!(fixed.updates(), [update("etag-1", stopped)]);
    backend.restore(NAME, &previous, &applied).await.unwrap();
    assert_eq!(fixed.updates()[1], update("etag-2", manual(4)));
}

#[tokio::test]
async fn a_stale_etag_is_retried_from_a_fresh_read() {
    let run = FakeRun::new(scaling(2, 10));
    let backend = run.backend();
    let previous = backend.read(NAME).await.unwrap();
    *run.raced.lock().unwrap() = 1;
    backend.apply(NAME, &previous, &cap(3)).await.unwrap();
    let updates = run.updates();
    assert_eq!(
        updates,
        [
            update("etag-1", scaling(0, 3)),
            update("etag-2", scaling(0, 3))
        ]
    );
}

#[tokio::test]
async fn repeats_write_nothing_and_a_change_since_the_read_is_refused() {
    let run = FakeRun::new(scaling(2, 10));
    let backend = run.backend();
    let previous = backend.read(NAME).await.unwrap();
    let applied = backend.apply(NAME, &previous, &cap(3)).await.unwrap();
    assert_eq!(
        backend.apply(NAME, &previous, &cap(3)).await.unwrap(),
        applied
    );
    backend.restore(NAME, &previous, &applied).await.unwrap();
    let again = backend.restore(NAME, &previous, &applied).await.unwrap();
    assert_eq!(again, Restored::Done);
    assert_eq!(run.updates().len(), 2, "one apply, one restore");

    run.set_scaling(scaling(4, 8));
    let err = backend.apply(NAME, &previous, &cap(3)).await.unwrap_err();
    assert!(matches!(err, BackendError::Changed { .. }), "{err}");
    assert_eq!(run.updates().len(), 2);
}

#[tokio::test]
async fn a_scaling_changed_while_capped_is_a_conflict_and_left_alone() {
    let run = FakeRun::new(scaling(2, 10));
    let backend = run.backend();
    let previous = backend.read(NAME).await.unwrap();
    let applied = backend.apply(NAME, &previous, &cap(3)).await.unwrap();
    run.set_scaling(scaling(0, 7));

    let restored = backend.restore(NAME, &previous, &applied).await.unwrap();
    let Restored::Conflict { found } = restored else {
        panic!("expected a conflict, got {restored:?}");
    };
    assert_eq!(found.scaling.max_instance_count, 7);
    assert_eq!(run.updates().len(), 1, "only the apply wrote");
    let scaling_now = run.service.lock().unwrap().scaling.clone();
    assert_eq!(scaling_now, Some(scaling(0, 7)));
}

#[tokio::test]
async fn names_that_are_not_a_service_are_refused_without_a_call() {
    let run = FakeRun::new(scaling(2, 10));
    let backend = run.backend();
    let previous = CloudRunSettings::of(&run.service.lock().unwrap());
    for name in [
        "env-demo",
        "projects/acme/locations/europe-west1/services",
        "projects/acme/locations/europe-west1/services/env-demo/revisions/r1",
        "projects//locations/europe-west1/services/env-demo",
    ] {
        let err = backend
            .apply(name, &previous, &Change::Stop)
            .await
            .unwrap_err();
        assert!(matches!(err, BackendError::Refused { .. }), "{name}: {err}");
    }
    assert!(run.updates().is_empty());
}

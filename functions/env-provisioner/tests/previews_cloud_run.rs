//! Preview services against the Cloud Run Admin client's stub trait (Cloud Run has no
//! emulator): the exact requests sent, and how replies map to outcomes.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use env_provisioner::previews::{
    CloudRunPreviews, Deployment, PreviewError, PreviewServices, PreviewSpec,
};
use events::names::EnvName;
use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_longrunning::model::Operation;
use google_cloud_run_v2::client::Services;
use google_cloud_run_v2::model::*;
use google_cloud_run_v2::{stub, Error, Result};

const PARENT: &str = "projects/acme/locations/europe-west1";
const URL: &str = "https://env-shop-abc-ew.a.run.app";

#[derive(Debug, Default)]
struct Fake {
    existing: Mutex<Option<Service>>,
    created: Mutex<Vec<CreateServiceRequest>>,
    deleted: Mutex<Vec<DeleteServiceRequest>>,
    gets: Mutex<Vec<String>>,
}

fn not_found() -> Error {
    Error::service(
        Status::default()
            .set_code(Code::NotFound)
            .set_message("not found"),
    )
}

fn done(service: &Service) -> Operation {
    let any = google_cloud_wkt::Any::from_msg(service).unwrap();
    Operation::new()
        .set_name("operations/1")
        .set_done(true)
        .set_response(any)
}

impl stub::Services for Fake {
    async fn get_service(
        &self,
        r: GetServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Service>> {
        self.gets.lock().unwrap().push(r.name);
        self.existing
            .lock()
            .unwrap()
            .clone()
            .map(Response::from)
            .ok_or_else(not_found)
    }
    async fn create_service(
        &self,
        r: CreateServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Operation>> {
        let service = r.service.clone().unwrap().set_uri(URL);
        self.created.lock().unwrap().push(r);
        *self.existing.lock().unwrap() = Some(service.clone());
        Ok(Response::from(done(&service)))
    }
    async fn delete_service(
        &self,
        r: DeleteServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Operation>> {
        self.deleted.lock().unwrap().push(r);
        let gone = self.existing.lock().unwrap().take().unwrap();
        Ok(Response::from(done(&gone)))
    }
}

fn spec() -> PreviewSpec {
    PreviewSpec {
        environment: "shop".parse().unwrap(),
        image: "europe-docker.pkg.dev/acme/apps/shop:abc123".into(),
        env: BTreeMap::from([("FEATURE_X".into(), "on".into())]),
        credentials_secret: "ephemeral-shop-db-credentials".into(),
        labels: BTreeMap::from([
            ("managed-by".into(), "groundskeeper".into()),
            ("environment".into(), "shop".into()),
        ]),
        max_instances: 2,
        service_account: Some("preview@acme.iam.gserviceaccount.com".into()),
    }
}

#[tokio::test]
async fn deploy_creates_the_exact_service_once_and_delete_removes_it() {
    let fake = std::sync::Arc::new(Fake::default());
    let previews = CloudRunPreviews::new(
        Services::from_stub::<Fake>(fake.clone()),
        "acme",
        "europe-west1",
    );

    assert_eq!(
        previews.deploy(&spec()).await.unwrap(),
        Deployment::Deployed { url: URL.into() }
    );
    let mut labels: HashMap<String, String> = spec().labels.into_iter().collect();
    labels.insert("groundskeeper-kind".into(), "preview".into());
    let expected = Service::new().set_labels(labels.clone()).set_template(
        RevisionTemplate::new()
            .set_labels(labels)
            .set_service_account("preview@acme.iam.gserviceaccount.com")
            .set_scaling(
                RevisionScaling::new()
                    .set_min_instance_count(0)
                    .set_max_instance_count(2),
            )
            .set_containers([Container::new()
                .set_image("europe-docker.pkg.dev/acme/apps/shop:abc123")
                .set_env([
                    EnvVar::new().set_name("FEATURE_X").set_value("on"),
                    EnvVar::new()
                        .set_name("DATABASE_CREDENTIALS")
                        .set_value_source(
                            EnvVarSource::new().set_secret_key_ref(
                                SecretKeySelector::new()
                                    .set_secret("ephemeral-shop-db-credentials")
                                    .set_version("current"),
                            ),
                        ),
                ])]),
    );
    let created = fake.created.lock().unwrap().clone();
    assert_eq!(
        created,
        [CreateServiceRequest::new()
            .set_parent(PARENT)
            .set_service_id("env-shop")
            .set_service(expected)]
    );

    // Redelivered: the existing service is reported, nothing is created again.
    assert_eq!(
        previews.deploy(&spec()).await.unwrap(),
        Deployment::Deployed { url: URL.into() }
    );
    assert_eq!(fake.created.lock().unwrap().len(), 1);

    assert!(previews.delete(&shop()).await.unwrap());
    let name = format!("{PARENT}/services/env-shop");
    assert_eq!(
        *fake.deleted.lock().unwrap(),
        [DeleteServiceRequest::new().set_name(&name)]
    );
    assert!(
        !previews.delete(&shop()).await.unwrap(),
        "deleting what is gone is done"
    );
    assert!(fake.gets.lock().unwrap().iter().all(|n| *n == name));
}

#[tokio::test]
async fn a_service_groundskeeper_does_not_manage_is_neither_adopted_nor_deleted() {
    let fake = std::sync::Arc::new(Fake::default());
    *fake.existing.lock().unwrap() = Some(Service::new().set_uri("https://theirs.run.app"));
    let previews = CloudRunPreviews::new(
        Services::from_stub::<Fake>(fake.clone()),
        "acme",
        "europe-west1",
    );
    assert!(matches!(
        previews.deploy(&spec()).await,
        Err(PreviewError::Refused { .. })
    ));
    assert!(matches!(
        previews.delete(&shop()).await,
        Err(PreviewError::Refused { .. })
    ));
    assert!(fake.created.lock().unwrap().is_empty() && fake.deleted.lock().unwrap().is_empty());
}

fn shop() -> EnvName {
    "shop".parse().unwrap()
}

#[tokio::test]
async fn a_platform_service_or_another_environments_preview_is_neither_adopted_nor_deleted() {
    let platform = [
        ("managed-by", "groundskeeper"),
        ("groundskeeper-kind", "platform"),
    ];
    let other_env = [
        ("managed-by", "groundskeeper"),
        ("groundskeeper-kind", "preview"),
        ("environment", "other"),
    ];
    // Labelled like a preview of `shop` but not groundskeeper's.
    let foreign = [("groundskeeper-kind", "preview"), ("environment", "shop")];
    // groundskeeper's and `shop`'s, but without the preview kind (as platform services were
    // labelled before the kind label existed).
    let unkinded = [("managed-by", "groundskeeper"), ("environment", "shop")];
    for labels in [&platform[..], &other_env[..], &foreign[..], &unkinded[..]] {
        let fake = std::sync::Arc::new(Fake::default());
        let labels: HashMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        *fake.existing.lock().unwrap() = Some(
            Service::new()
                .set_uri("https://theirs.run.app")
                .set_labels(labels.clone()),
        );
        let previews = CloudRunPreviews::new(
            Services::from_stub::<Fake>(fake.clone()),
            "acme",
            "europe-west1",
        );
        assert!(
            matches!(
                previews.deploy(&spec()).await,
                Err(PreviewError::Refused { .. })
            ),
            "{labels:?} adopted"
        );
        assert!(
            matches!(
                previews.delete(&shop()).await,
                Err(PreviewError::Refused { .. })
            ),
            "{labels:?} deleted"
        );
        assert!(fake.created.lock().unwrap().is_empty(), "{labels:?}");
        assert!(fake.deleted.lock().unwrap().is_empty(), "{labels:?}");
    }
}

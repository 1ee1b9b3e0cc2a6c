//! A Cloud Run Admin API behind the official client's stub trait (Cloud Run has no emulator):
//! services by resource name, every create and delete request recorded, and failures to
//! hand out to the next deletes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use env_provisioner::previews::CloudRunPreviews;
use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_longrunning::model::Operation;
use google_cloud_run_v2::client::Services;
use google_cloud_run_v2::model::{
    CreateServiceRequest, DeleteServiceRequest, GetServiceRequest, Service,
};
use google_cloud_run_v2::{stub, Error, Result};

pub const PARENT: &str = "projects/acme/locations/europe-west1";

#[derive(Debug, Default)]
pub struct FakeRun {
    services: Mutex<BTreeMap<String, Service>>,
    /// Every service id a create was asked for.
    pub created: Mutex<Vec<String>>,
    /// Every service id a delete was asked for (including refused ones).
    pub deleted: Mutex<Vec<String>>,
    /// The next deletes fail with these codes, in order.
    fail_deletes: Mutex<VecDeque<Code>>,
}

impl FakeRun {
    /// The previews backend over this fake, as production builds it over the real client.
    pub fn previews(self: &Arc<Self>) -> Arc<CloudRunPreviews> {
        Arc::new(CloudRunPreviews::new(
            Services::from_stub::<FakeRun>(self.clone()),
            "acme",
            "europe-west1",
        ))
    }

    /// A service `id` with these labels exists (someone else's, a platform service, …).
    pub fn put(&self, id: &str, labels: &[(&str, &str)]) {
        let labels: HashMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let service = Service::new()
            .set_uri(format!("https://{id}.run.app"))
            .set_labels(labels);
        self.services
            .lock()
            .unwrap()
            .insert(format!("{PARENT}/services/{id}"), service);
    }

    pub fn exists(&self, id: &str) -> bool {
        self.services
            .lock()
            .unwrap()
            .contains_key(&format!("{PARENT}/services/{id}"))
    }

    /// The next delete fails with `code`.
    pub fn fail_next_delete(&self, code: Code) {
        self.fail_deletes.lock().unwrap().push_back(code);
    }

    pub fn deleted(&self) -> Vec<String> {
        self.deleted.lock().unwrap().clone()
    }
}

fn error(code: Code) -> Error {
    Error::service(Status::default().set_code(code).set_message("fake"))
}

fn done(service: &Service) -> Operation {
    let any = google_cloud_wkt::Any::from_msg(service).unwrap();
    Operation::new()
        .set_name("operations/1")
        .set_done(true)
        .set_response(any)
}

fn id(name: &str) -> String {
    name.rsplit('/').next().unwrap_or_default().to_owned()
}

impl stub::Services for FakeRun {
    async fn get_service(
        &self,
        r: GetServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Service>> {
        let services = self.services.lock().unwrap();
        services
            .get(&r.name)
            .cloned()
            .map(Response::from)
            .ok_or_else(|| error(Code::NotFound))
    }

    async fn create_service(
        &self,
        r: CreateServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Operation>> {
        self.created.lock().unwrap().push(r.service_id.clone());
        let name = format!("{}/services/{}", r.parent, r.service_id);
        let mut services = self.services.lock().unwrap();
        if services.contains_key(&name) {
            return Err(error(Code::AlreadyExists));
        }
        let service = r
            .service
            .unwrap_or_default()
            .set_uri(format!("https://{}.run.app", r.service_id));
        services.insert(name, service.clone());
        Ok(Response::from(done(&service)))
    }

    async fn delete_service(
        &self,
        r: DeleteServiceRequest,
        _: RequestOptions,
    ) -> Result<Response<Operation>> {
        self.deleted.lock().unwrap().push(id(&r.name));
        if let Some(code) = self.fail_deletes.lock().unwrap().pop_front() {
            return Err(error(code));
        }
        match self.services.lock().unwrap().remove(&r.name) {
            Some(gone) => Ok(Response::from(done(&gone))),
            None => Err(error(Code::NotFound)),
        }
    }
}

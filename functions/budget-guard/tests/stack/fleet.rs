//! Stateful fakes of Cloud Run and Cloud SQL (no emulator exists) behind the official
//! clients' stub traits: many services / instances, every write recorded, so tests assert the
//! exact requests and every resource's settings after a whole sequence.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_longrunning::model::Operation as RunOperation;
use google_cloud_run_v2::model::service_scaling::ScalingMode;
use google_cloud_run_v2::model::{
    GetServiceRequest, ListServicesRequest, ListServicesResponse, Service, ServiceScaling,
    UpdateServiceRequest,
};
use google_cloud_sql_v1::model::operation::SqlOperationStatus;
use google_cloud_sql_v1::model::settings::SqlActivationPolicy;
use google_cloud_sql_v1::model::{
    DatabaseInstance, InstancesListResponse, Operation, Settings, SqlInstancesGetRequest,
    SqlInstancesListRequest, SqlInstancesPatchRequest, SqlOperationsGetRequest,
};

pub const LOCATION: &str = "projects/acme/locations/europe-west1";
pub const PROJECT: &str = "acme";

pub fn labels(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Cloud Run services of one location.
#[derive(Debug, Default)]
pub struct RunFleet {
    services: Mutex<BTreeMap<String, Service>>,
    pub updates: Mutex<Vec<UpdateServiceRequest>>,
    /// Names whose next N updates fail with UNAVAILABLE (an outage mid-level).
    pub failing: Mutex<HashMap<String, u32>>,
}

impl RunFleet {
    pub fn add(&self, service: &str, min: i32, max: i32, labels: HashMap<String, String>) {
        let name = format!("{LOCATION}/services/{service}");
        let scaling = ServiceScaling::new()
            .set_min_instance_count(min)
            .set_max_instance_count(max)
            .set_scaling_mode(ScalingMode::Automatic);
        let s = Service::new()
            .set_name(&name)
            .set_etag("e1")
            .set_labels(labels)
            .set_scaling(scaling);
        self.services.lock().unwrap().insert(name, s);
    }

    /// (min, max) of a service, by its short name.
    pub fn scaling(&self, service: &str) -> (i32, i32) {
        let name = format!("{LOCATION}/services/{service}");
        let s = self.services.lock().unwrap()[&name]
            .scaling
            .clone()
            .unwrap();
        (s.min_instance_count, s.max_instance_count)
    }

    /// Someone else sets a service's scaling.
    pub fn set_scaling(&self, service: &str, min: i32, max: i32) {
        let name = format!("{LOCATION}/services/{service}");
        let mut services = self.services.lock().unwrap();
        let s = services.get_mut(&name).unwrap();
        let scaling = s.scaling.clone().unwrap();
        s.scaling = Some(
            scaling
                .set_min_instance_count(min)
                .set_max_instance_count(max),
        );
        s.etag = format!("{}x", s.etag);
    }

    pub fn updates_of(&self, service: &str) -> usize {
        let name = format!("{LOCATION}/services/{service}");
        let updates = self.updates.lock().unwrap();
        updates
            .iter()
            .filter(|u| u.service.as_ref().unwrap().name == name)
            .count()
    }

    pub fn update_count(&self) -> usize {
        self.updates.lock().unwrap().len()
    }
}

fn unavailable() -> google_cloud_gax::error::Error {
    let status = Status::default().set_code(Code::Unavailable);
    google_cloud_gax::error::Error::service(status.set_message("fake outage"))
}

impl google_cloud_run_v2::stub::Services for RunFleet {
    async fn list_services(
        &self,
        r: ListServicesRequest,
        _: RequestOptions,
    ) -> google_cloud_run_v2::Result<Response<ListServicesResponse>> {
        assert_eq!(r.parent, LOCATION);
        let services = self
            .services
            .lock()
            .unwrap()
            .values()
            .cloned()
            .collect::<Vec<_>>();
        Ok(Response::from(
            ListServicesResponse::new().set_services(services),
        ))
    }

    async fn get_service(
        &self,
        r: GetServiceRequest,
        _: RequestOptions,
    ) -> google_cloud_run_v2::Result<Response<Service>> {
        match self.services.lock().unwrap().get(&r.name) {
            Some(s) => Ok(Response::from(s.clone())),
            None => Err(google_cloud_gax::error::Error::service(
                Status::default()
                    .set_code(Code::NotFound)
                    .set_message("no such service"),
            )),
        }
    }

    async fn update_service(
        &self,
        r: UpdateServiceRequest,
        _: RequestOptions,
    ) -> google_cloud_run_v2::Result<Response<RunOperation>> {
        let sent = r.service.clone().unwrap();
        if let Some(n) = self.failing.lock().unwrap().get_mut(&sent.name) {
            if *n > 0 {
                *n -= 1;
                return Err(unavailable());
            }
        }
        self.updates.lock().unwrap().push(r.clone());
        assert_eq!(
            r.update_mask.unwrap().paths,
            ["scaling"],
            "only scaling changes"
        );
        let mut services = self.services.lock().unwrap();
        let service = services.get_mut(&sent.name).unwrap();
        if sent.etag != service.etag {
            return Err(google_cloud_gax::error::Error::service(
                Status::default()
                    .set_code(Code::Aborted)
                    .set_message("etag"),
            ));
        }
        service.scaling = sent.scaling;
        service.etag = format!("{}+", service.etag);
        let any = google_cloud_wkt::Any::from_msg(&*service).unwrap();
        let done = RunOperation::new().set_name("operations/1").set_done(true);
        Ok(Response::from(done.set_response(any)))
    }
}

/// Cloud SQL instances of one project; operations are DONE at once.
#[derive(Debug, Default)]
pub struct SqlFleet {
    instances: Mutex<BTreeMap<String, DatabaseInstance>>,
    pub patches: Mutex<Vec<SqlInstancesPatchRequest>>,
}

impl SqlFleet {
    pub fn add(
        &self,
        id: &str,
        policy: SqlActivationPolicy,
        labels: HashMap<String, String>,
        replica_of: Option<&str>,
    ) {
        let settings = Settings::new()
            .set_activation_policy(policy)
            .set_settings_version(1)
            .set_user_labels(labels);
        let mut instance = DatabaseInstance::new().set_name(id).set_settings(settings);
        if let Some(primary) = replica_of {
            instance = instance.set_master_instance_name(format!("{PROJECT}:{primary}"));
        }
        self.instances
            .lock()
            .unwrap()
            .insert(id.to_owned(), instance);
    }

    pub fn policy(&self, id: &str) -> SqlActivationPolicy {
        let instances = self.instances.lock().unwrap();
        instances[id]
            .settings
            .as_ref()
            .unwrap()
            .activation_policy
            .clone()
    }

    pub fn patch_count(&self) -> usize {
        self.patches.lock().unwrap().len()
    }
}

impl google_cloud_sql_v1::stub::SqlInstancesService for SqlFleet {
    async fn list(
        &self,
        r: SqlInstancesListRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<InstancesListResponse>> {
        assert_eq!(r.project, PROJECT);
        let items = self
            .instances
            .lock()
            .unwrap()
            .values()
            .cloned()
            .collect::<Vec<_>>();
        Ok(Response::from(
            InstancesListResponse::new().set_items(items),
        ))
    }

    async fn get(
        &self,
        r: SqlInstancesGetRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<DatabaseInstance>> {
        assert_eq!(r.project, PROJECT);
        Ok(Response::from(
            self.instances.lock().unwrap()[&r.instance].clone(),
        ))
    }

    async fn patch(
        &self,
        r: SqlInstancesPatchRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<Operation>> {
        self.patches.lock().unwrap().push(r.clone());
        let mut instances = self.instances.lock().unwrap();
        let instance = instances.get_mut(&r.instance).unwrap();
        let sent = r.body.unwrap().settings.unwrap();
        let current = instance.settings.clone().unwrap();
        assert_eq!(sent.settings_version, current.settings_version);
        let version = current.settings_version.unwrap() + 1;
        instance.settings = Some(
            current
                .set_activation_policy(sent.activation_policy)
                .set_settings_version(version),
        );
        Ok(Response::from(
            Operation::new()
                .set_name("op")
                .set_status(SqlOperationStatus::Done),
        ))
    }
}

impl google_cloud_sql_v1::stub::SqlOperationsService for SqlFleet {
    async fn get(
        &self,
        r: SqlOperationsGetRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<Operation>> {
        Ok(Response::from(
            Operation::new()
                .set_name(r.operation)
                .set_status(SqlOperationStatus::Done),
        ))
    }
}

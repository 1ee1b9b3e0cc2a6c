//! Cloud Run services, through the Admin API v2 client: only the service-level `scaling`
//! changes (update mask `["scaling"]`, conditional on the etag read), which Cloud Run
//! applies at once without a new revision.

use std::collections::BTreeMap;

use async_trait::async_trait;
use google_cloud_lro::Poller as _;
use google_cloud_run_v2::client::Services;
use google_cloud_run_v2::model::Service;
use google_cloud_wkt::FieldMask;

use super::api::{classify, is_stale, kept_changing, ROUNDS};
use super::{Backend, BackendError, Change, Restored};

mod scaling;

pub use scaling::{CloudRunSettings, Scaling, STOP_MAX_INSTANCES};

/// Cloud Run services; `name` is the full resource name
/// `projects/{project}/locations/{region}/services/{service}`.
#[derive(Debug, Clone)]
pub struct CloudRun {
    client: Services,
}

impl CloudRun {
    /// Over an existing client (in tests, one built with `Services::from_stub`).
    pub fn new(client: Services) -> Self {
        Self { client }
    }

    /// The full names of the services in `parent` (`projects/{project}/locations/{region}`),
    /// every page.
    pub async fn list(&self, parent: &str) -> Result<Vec<String>, BackendError> {
        let mut names = Vec::new();
        let mut token = String::new();
        loop {
            let page = (self.client.list_services())
                .set_parent(parent)
                .set_page_token(&token)
                .send()
                .await
                .map_err(|e| classify(parent, "services.list", &e))?;
            names.extend(page.services.into_iter().map(|s| s.name));
            if page.next_page_token.is_empty() {
                return Ok(names);
            }
            token = page.next_page_token;
        }
    }

    async fn get(&self, name: &str) -> Result<Service, BackendError> {
        check_name(name)?;
        (self.client.get_service().set_name(name).send().await)
            .map_err(|e| classify(name, "services.get", &e))
    }

    /// Sets `scaling` on the service as of `etag`, and nothing else: the settings after it,
    /// or `None` when the etag is stale (another writer came first).
    async fn write(
        &self,
        name: &str,
        etag: &str,
        scaling: &Scaling,
    ) -> Result<Option<CloudRunSettings>, BackendError> {
        let service = Service::new()
            .set_name(name)
            .set_etag(etag)
            .set_scaling(scaling.to_api());
        let updated = (self.client.update_service())
            .set_service(service)
            .set_update_mask(FieldMask::default().set_paths(["scaling"]))
            .poller()
            .until_done()
            .await;
        match updated {
            Ok(service) => Ok(Some(CloudRunSettings::of(&service))),
            Err(e) if is_stale(&e) => Ok(None),
            Err(e) => Err(classify(name, "services.update", &e)),
        }
    }
}

/// Refuses anything but `projects/{project}/locations/{region}/services/{service}`, so a
/// name cannot address another kind of resource or a collection.
fn check_name(name: &str) -> Result<(), BackendError> {
    match name.split('/').collect::<Vec<_>>()[..] {
        ["projects", p, "locations", l, "services", s] if ![p, l, s].contains(&"") => Ok(()),
        _ => Err(BackendError::Refused {
            resource: name.escape_debug().to_string(),
            reason: "not a Cloud Run service name \
                     (projects/{project}/locations/{region}/services/{service})"
                .to_owned(),
        }),
    }
}

#[async_trait]
impl Backend for CloudRun {
    type Settings = CloudRunSettings;

    async fn read(&self, name: &str) -> Result<CloudRunSettings, BackendError> {
        Ok(CloudRunSettings::of(&self.get(name).await?))
    }

    async fn apply(
        &self,
        name: &str,
        expected: &CloudRunSettings,
        change: &Change,
    ) -> Result<CloudRunSettings, BackendError> {
        let target = expected.scaling.after(change);
        for _ in 0..ROUNDS {
            let service = self.get(name).await?;
            let current = CloudRunSettings::of(&service);
            if current.scaling == target {
                return Ok(current);
            }
            if current.scaling != expected.scaling {
                return Err(BackendError::changed(name, &current));
            }
            if let Some(after) = self.write(name, &service.etag, &target).await? {
                return Ok(after);
            }
        }
        Err(kept_changing(name, "services.update"))
    }

    async fn restore(
        &self,
        name: &str,
        previous: &CloudRunSettings,
        applied: &CloudRunSettings,
    ) -> Result<Restored<CloudRunSettings>, BackendError> {
        for _ in 0..ROUNDS {
            let service = self.get(name).await?;
            let current = CloudRunSettings::of(&service);
            if current.scaling == previous.scaling {
                return Ok(Restored::Done);
            }
            // Labels may change meanwhile (the caller's own markers); only scaling counts.
            if current.scaling != applied.scaling {
                return Ok(Restored::Conflict { found: current });
            }
            let write = self.write(name, &service.etag, &previous.scaling);
            if write.await?.is_some() {
                return Ok(Restored::Done);
            }
        }
        Err(kept_changing(name, "services.update"))
    }

    fn labels(&self, settings: &CloudRunSettings) -> BTreeMap<String, String> {
        settings.labels.clone()
    }

    fn planned(&self, current: &CloudRunSettings, change: &Change) -> CloudRunSettings {
        CloudRunSettings {
            scaling: current.scaling.after(change),
            ..current.clone()
        }
    }
}

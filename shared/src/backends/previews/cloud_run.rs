//! Preview services on Cloud Run, through the official Admin API v2 client.
//!
//! A service is `projects/{project}/locations/{region}/services/env-{name}`: one container
//! with the requested image and env vars, the credentials secret's `current` version as
//! [`CREDENTIALS_ENV`], the environment's labels on the service and its revisions, and
//! revision scaling from 0 (idle costs nothing) to the spec's maximum.

use async_trait::async_trait;
use google_cloud_gax::error::rpc::Code;
use google_cloud_lro::Poller as _;
use google_cloud_run_v2::client::Services;
use google_cloud_run_v2::model::{
    Container, EnvVar, EnvVarSource, RevisionScaling, RevisionTemplate, SecretKeySelector, Service,
};

use super::{Deployment, PreviewError, PreviewServices, PreviewSpec, CREDENTIALS_ENV, MANAGED_BY};

/// Preview services in one project and region.
#[derive(Debug, Clone)]
pub struct CloudRunPreviews {
    client: Services,
    project: String,
    region: String,
}

impl CloudRunPreviews {
    /// Previews over an existing client (in tests, one built with `from_stub`).
    pub fn new(client: Services, project: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            client,
            project: project.into(),
            region: region.into(),
        }
    }

    /// Previews with a client using Application Default Credentials.
    pub async fn connect(
        project: impl Into<String>,
        region: impl Into<String>,
    ) -> Result<Self, google_cloud_gax::client_builder::Error> {
        Ok(Self::new(
            Services::builder().build().await?,
            project,
            region,
        ))
    }

    fn parent(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.region)
    }

    fn resource(&self, name: &str) -> String {
        format!("{}/services/{name}", self.parent())
    }

    /// The service if it exists; refused if it exists without our label.
    async fn existing(&self, name: &str) -> Result<Option<Service>, PreviewError> {
        match self.client.get_service().set_name(self.resource(name)).send().await {
            Ok(service) if is_managed(&service) => Ok(Some(service)),
            Ok(_) => Err(PreviewError::Refused {
                service: name.to_owned(),
                reason: format!(
                    "a service of that name exists without the label {}={}; groundskeeper leaves it alone",
                    MANAGED_BY.0, MANAGED_BY.1
                ),
            }),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(None),
            Err(e) => Err(classify(name, e)),
        }
    }
}

fn is_managed(service: &Service) -> bool {
    service.labels.get(MANAGED_BY.0).map(String::as_str) == Some(MANAGED_BY.1)
}

fn code(e: &google_cloud_run_v2::Error) -> Option<Code> {
    e.status().map(|s| s.code)
}

fn classify(name: &str, e: google_cloud_run_v2::Error) -> PreviewError {
    let service = name.to_owned();
    let transient = matches!(
        code(&e),
        Some(
            Code::Unavailable
                | Code::DeadlineExceeded
                | Code::Internal
                | Code::Aborted
                | Code::ResourceExhausted
        )
    ) || e.is_timeout()
        || e.is_transport()
        || e.is_io();
    if transient {
        PreviewError::Unavailable {
            service,
            reason: e.to_string(),
        }
    } else {
        PreviewError::Refused {
            service,
            reason: e.to_string(),
        }
    }
}

/// The service a spec asks for.
pub(crate) fn service_for(spec: &PreviewSpec) -> Service {
    let credentials = EnvVar::new().set_name(CREDENTIALS_ENV).set_value_source(
        EnvVarSource::new().set_secret_key_ref(
            SecretKeySelector::new()
                .set_secret(&spec.credentials_secret)
                .set_version("current"),
        ),
    );
    let env = spec
        .env
        .iter()
        .map(|(name, value)| EnvVar::new().set_name(name).set_value(value))
        .chain([credentials]);
    let container = Container::new().set_image(&spec.image).set_env(env);
    let scaling = RevisionScaling::new()
        .set_min_instance_count(0)
        .set_max_instance_count(i32::try_from(spec.max_instances).unwrap_or(i32::MAX));
    let mut template = RevisionTemplate::new()
        .set_labels(spec.labels.clone())
        .set_scaling(scaling)
        .set_containers([container]);
    if let Some(account) = &spec.service_account {
        template = template.set_service_account(account);
    }
    Service::new()
        .set_labels(spec.labels.clone())
        .set_template(template)
}

#[async_trait]
impl PreviewServices for CloudRunPreviews {
    async fn deploy(&self, spec: &PreviewSpec) -> Result<Deployment, PreviewError> {
        if let Some(service) = self.existing(&spec.name).await? {
            return Ok(Deployment::Deployed { url: service.uri });
        }
        let created = self
            .client
            .create_service()
            .set_parent(self.parent())
            .set_service_id(&spec.name)
            .set_service(service_for(spec))
            .poller()
            .until_done()
            .await;
        match created {
            Ok(service) => Ok(Deployment::Deployed { url: service.uri }),
            // A concurrent deploy won; report what it made (refused if it is not ours).
            Err(e) if code(&e) == Some(Code::AlreadyExists) => {
                match self.existing(&spec.name).await? {
                    Some(service) => Ok(Deployment::Deployed { url: service.uri }),
                    None => Err(classify(&spec.name, e)),
                }
            }
            Err(e) => Err(classify(&spec.name, e)),
        }
    }

    async fn delete(&self, name: &str) -> Result<bool, PreviewError> {
        if self.existing(name).await?.is_none() {
            return Ok(false);
        }
        let deleted = self
            .client
            .delete_service()
            .set_name(self.resource(name))
            .poller()
            .until_done()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(false),
            Err(e) => Err(classify(name, e)),
        }
    }
}

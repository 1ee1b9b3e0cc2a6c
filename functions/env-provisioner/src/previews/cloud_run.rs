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

use events::names::EnvName;

use super::{
    is_preview_of, preview_labels, Deployment, PreviewError, PreviewServices, PreviewSpec,
    CREDENTIALS_ENV,
};

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

    /// The environment's preview if it exists; refused if a service of that name exists that
    /// is not this environment's preview (a platform service, another environment's, or one
    /// groundskeeper does not manage).
    async fn existing(&self, environment: &EnvName) -> Result<Option<Service>, PreviewError> {
        let name = environment.service_name();
        match self.client.get_service().set_name(self.resource(&name)).send().await {
            Ok(service) if is_preview_of(&service.labels, environment) => Ok(Some(service)),
            Ok(_) => Err(PreviewError::Refused {
                service: name,
                reason: format!(
                    "a service of that name exists that is not the preview of environment {environment} \
                     (labels managed-by=groundskeeper, groundskeeper-kind=preview, environment={environment}); \
                     groundskeeper leaves it alone"
                ),
            }),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(None),
            Err(e) => Err(classify(&name, e)),
        }
    }
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
    let labels = preview_labels(spec);
    let mut template = RevisionTemplate::new()
        .set_labels(labels.clone())
        .set_scaling(scaling)
        .set_containers([container]);
    if let Some(account) = &spec.service_account {
        template = template.set_service_account(account);
    }
    Service::new().set_labels(labels).set_template(template)
}

#[async_trait]
impl PreviewServices for CloudRunPreviews {
    async fn deploy(&self, spec: &PreviewSpec) -> Result<Deployment, PreviewError> {
        let name = spec.environment.service_name();
        if let Some(service) = self.existing(&spec.environment).await? {
            return Ok(Deployment::Deployed { url: service.uri });
        }
        let created = self
            .client
            .create_service()
            .set_parent(self.parent())
            .set_service_id(&name)
            .set_service(service_for(spec))
            .poller()
            .until_done()
            .await;
        match created {
            Ok(service) => Ok(Deployment::Deployed { url: service.uri }),
            // A concurrent deploy won; report what it made (refused if it is not ours).
            Err(e) if code(&e) == Some(Code::AlreadyExists) => {
                match self.existing(&spec.environment).await? {
                    Some(service) => Ok(Deployment::Deployed { url: service.uri }),
                    None => Err(classify(&name, e)),
                }
            }
            Err(e) => Err(classify(&name, e)),
        }
    }

    async fn delete(&self, environment: &EnvName) -> Result<bool, PreviewError> {
        let name = environment.service_name();
        let Some(service) = self.existing(environment).await? else {
            return Ok(false);
        };
        // The etag makes the delete conditional on the service we checked: if it was replaced
        // by a same-named service in between, Cloud Run refuses instead of deleting that one.
        let deleted = self
            .client
            .delete_service()
            .set_name(self.resource(&name))
            .set_etag(service.etag)
            .poller()
            .until_done()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(false),
            Err(e) => Err(classify(&name, e)),
        }
    }
}

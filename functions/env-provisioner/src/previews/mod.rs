//! Preview services: an environment's optional Cloud Run service `env-{name}`.
//!
//! On Google Cloud, [`CloudRunPreviews`] creates and deletes the service through the Cloud
//! Run Admin API v2 (`google-cloud-run-v2`). There is no Cloud Run emulator, so the local
//! implementation, [`SkippedPreviews`], deploys nothing and says so: its
//! [`Deployment::Skipped`] reason travels in `environment.ready` and in the control state,
//! so nobody mistakes a local environment for one with a running service.
//! [`DryRunPreviews`] records into a plan. [`Previews`] picks one of them for a delivery.
//!
//! Only this service deploys previews, so the backend lives here rather than in `shared`'s
//! `Backends`, and only this binary links the Cloud Run client.

mod cloud_run;
mod local;
mod pick;

pub use cloud_run::CloudRunPreviews;
pub use local::{DryRunPreviews, SkippedPreviews, SKIPPED_REASON};
pub use pick::Previews;

use std::collections::BTreeMap;

use async_trait::async_trait;
use events::labels::{self, Labels};
use events::names::EnvName;
use shared::step::StepError;

/// The env var under which a preview service finds its database credentials (the JSON of
/// the environment's credentials secret, alias `current`).
pub const CREDENTIALS_ENV: &str = "DATABASE_CREDENTIALS";

/// What to deploy. Names and labels come from validated environment names and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewSpec {
    /// The environment it previews; the service is [`EnvName::service_name`].
    pub environment: EnvName,
    /// The container image.
    pub image: String,
    /// Plain env vars.
    pub env: BTreeMap<String, String>,
    /// The secret id whose `current` version is exposed as [`CREDENTIALS_ENV`].
    pub credentials_secret: String,
    /// Labels for the service. The backend adds the ownership labels itself
    /// ([`preview_labels`]), so a caller cannot forget them.
    pub labels: BTreeMap<String, String>,
    /// The most instances it may scale to; it always scales to zero when idle.
    pub max_instances: u32,
    /// The service account it runs as; the project's default when `None`.
    pub service_account: Option<String>,
}

/// What a deploy achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// The service runs (or already ran) at this URL.
    Deployed {
        /// Its URL.
        url: String,
    },
    /// Nothing was deployed, for this reason (e.g. no Cloud Run locally).
    Skipped {
        /// Why, for people.
        reason: String,
    },
}

/// Why a preview operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The API could not be reached or was overloaded: worth a retry.
    #[error("preview service {service}: Cloud Run unavailable: {reason}")]
    Unavailable {
        /// The service id.
        service: String,
        /// What the client said.
        reason: String,
    },
    /// The API refused (bad image, permission denied, quota), or a service of that name
    /// exists that groundskeeper does not manage.
    #[error("preview service {service}: {reason}")]
    Refused {
        /// The service id.
        service: String,
        /// Why.
        reason: String,
    },
}

impl PreviewError {
    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PreviewError::Unavailable { .. })
    }
}

impl From<PreviewError> for StepError {
    fn from(error: PreviewError) -> Self {
        Self {
            retryable: error.is_retryable(),
            reason: error.to_string(),
        }
    }
}

/// The labels a preview service carries: the spec's, then `managed-by=groundskeeper`,
/// `groundskeeper-kind=preview` and `environment=NAME` on top, so no spec can leave them out
/// or override them.
pub fn preview_labels(spec: &PreviewSpec) -> Labels {
    let mut labels = spec.labels.clone();
    labels.insert(labels::MANAGED_BY.into(), labels::MANAGED_BY_VALUE.into());
    labels.insert(labels::KIND.into(), labels::KIND_PREVIEW.into());
    labels.insert(labels::ENVIRONMENT.into(), spec.environment.to_string());
    labels
}

/// Whether a service with these labels is the preview of `environment`: groundskeeper's, a
/// preview (not a platform service, which shares the `env-` naming), and this environment's.
/// Names collide; only the labels decide.
pub fn is_preview_of<'a>(
    service_labels: impl IntoIterator<Item = (&'a String, &'a String)>,
    environment: &EnvName,
) -> bool {
    let labels: Labels = service_labels
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels::belongs_to_environment(&labels, environment.as_str())
        && labels.get(labels::KIND).map(String::as_str) == Some(labels::KIND_PREVIEW)
}

/// Creates and deletes preview services. Both are idempotent, and both touch a service only
/// when [`is_preview_of`] the environment holds.
#[async_trait]
pub trait PreviewServices: Send + Sync {
    /// Deploys the environment's preview, or returns the existing one if it is this
    /// environment's preview. A same-named service that is not is [`PreviewError::Refused`].
    async fn deploy(&self, spec: &PreviewSpec) -> Result<Deployment, PreviewError>;

    /// Deletes the environment's preview. `false` if there was none; a same-named service
    /// that is not this environment's preview is [`PreviewError::Refused`] and left alone.
    async fn delete(&self, environment: &EnvName) -> Result<bool, PreviewError>;
}

//! Preview services: an environment's optional Cloud Run service `env-{name}`.
//!
//! On Google Cloud, [`CloudRunPreviews`] creates and deletes the service through the Cloud
//! Run Admin API v2 (`google-cloud-run-v2`). There is no Cloud Run emulator, so the local
//! implementation, [`SkippedPreviews`], deploys nothing and says so: its
//! [`Deployment::Skipped`] reason travels in `environment.ready` and in the control state,
//! so nobody mistakes a local environment for one with a running service.
//! [`DryRunPreviews`] records into a plan.

#[cfg(feature = "cloud-run")]
mod cloud_run;
mod local;

#[cfg(feature = "cloud-run")]
pub use cloud_run::CloudRunPreviews;
pub use local::{DryRunPreviews, SkippedPreviews};

use std::collections::BTreeMap;

use async_trait::async_trait;

/// The env var under which a preview service finds its database credentials (the JSON of
/// the environment's credentials secret, alias `current`).
pub const CREDENTIALS_ENV: &str = "DATABASE_CREDENTIALS";

/// Label every groundskeeper resource carries, and the only ones it deletes.
pub const MANAGED_BY: (&str, &str) = ("managed-by", "groundskeeper");

/// What to deploy. Names and labels come from validated environment names and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewSpec {
    /// The service id, `env-{name}`.
    pub name: String,
    /// The container image.
    pub image: String,
    /// Plain env vars.
    pub env: BTreeMap<String, String>,
    /// The secret id whose `current` version is exposed as [`CREDENTIALS_ENV`].
    pub credentials_secret: String,
    /// Labels for the service (must include [`MANAGED_BY`]).
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

/// Creates and deletes preview services. Both are idempotent.
#[async_trait]
pub trait PreviewServices: Send + Sync {
    /// Deploys the service, or returns the existing one if groundskeeper already deployed
    /// it. A same-named service without the [`MANAGED_BY`] label is [`PreviewError::Refused`].
    async fn deploy(&self, spec: &PreviewSpec) -> Result<Deployment, PreviewError>;

    /// Deletes the service. `false` if there was none; a service without the
    /// [`MANAGED_BY`] label is [`PreviewError::Refused`] and left alone.
    async fn delete(&self, name: &str) -> Result<bool, PreviewError>;
}

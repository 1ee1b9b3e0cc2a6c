//! Preview services where there is no Cloud Run: skipped locally, recorded in a dry run.

use async_trait::async_trait;
use events::names::EnvName;
use serde_json::json;

use super::{Deployment, PreviewError, PreviewServices, PreviewSpec};
use shared::backends::Plan;

/// The local stack's preview services: none. Deploys report [`Deployment::Skipped`].
#[derive(Debug, Clone, Default)]
pub struct SkippedPreviews;

/// Why [`SkippedPreviews`] deploys nothing.
pub const SKIPPED_REASON: &str =
    "no preview service: Cloud Run has no local emulator (set CLOUD_RUN_REGION to deploy on Google Cloud)";

#[async_trait]
impl PreviewServices for SkippedPreviews {
    async fn deploy(&self, _spec: &PreviewSpec) -> Result<Deployment, PreviewError> {
        Ok(Deployment::Skipped {
            reason: SKIPPED_REASON.to_owned(),
        })
    }

    async fn delete(&self, _environment: &EnvName) -> Result<bool, PreviewError> {
        Ok(false)
    }
}

/// Records planned preview deploys and deletes.
#[derive(Debug, Clone)]
pub struct DryRunPreviews {
    plan: Plan,
}

impl DryRunPreviews {
    /// Previews recording into `plan`.
    pub fn new(plan: Plan) -> Self {
        Self { plan }
    }
}

#[async_trait]
impl PreviewServices for DryRunPreviews {
    async fn deploy(&self, spec: &PreviewSpec) -> Result<Deployment, PreviewError> {
        self.plan.record(json!({
            "backend": "previews", "action": "deploy", "service": spec.environment.service_name(),
            "image": spec.image, "env": spec.env.keys().collect::<Vec<_>>(),
            "secret": spec.credentials_secret, "labels": super::preview_labels(spec),
        }));
        Ok(Deployment::Skipped {
            reason: "dry run".to_owned(),
        })
    }

    async fn delete(&self, environment: &EnvName) -> Result<bool, PreviewError> {
        let service = environment.service_name();
        self.plan
            .record(json!({ "backend": "previews", "action": "delete", "service": service }));
        Ok(false)
    }
}

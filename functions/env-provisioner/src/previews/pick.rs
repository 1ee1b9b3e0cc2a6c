//! The previews backend a delivery uses: Cloud Run when `CLOUD_RUN_REGION` is set, skipped
//! otherwise, and in a dry run (`replay --dry-run`) one that only records into the plan.

use std::{fmt, sync::Arc};

use shared::{env::Env, step::StepError, Ctx};
use tokio::sync::OnceCell;

use super::{CloudRunPreviews, DryRunPreviews, PreviewServices, SkippedPreviews};

/// The process's previews backend, chosen at start and built on first use: an instance that
/// never deploys a preview (one answering only `/healthz`, or a teardown of an environment
/// without one) never builds the Cloud Run client or loads its credentials. Cheap to clone;
/// clones share the built backend.
#[derive(Clone)]
pub struct Previews {
    project: String,
    /// `CLOUD_RUN_REGION`; unset, previews are skipped (there is no local Cloud Run).
    region: Option<String>,
    built: Arc<OnceCell<Arc<dyn PreviewServices>>>,
}

impl Previews {
    /// Reads `CLOUD_RUN_REGION`; the services go to `project`. Builds nothing yet.
    pub fn from_env(env: &Env, project: &str) -> Self {
        Self {
            project: project.to_owned(),
            region: env.optional("CLOUD_RUN_REGION"),
            built: Arc::default(),
        }
    }

    /// Previews over a ready backend (tests: Cloud Run over the client's stub).
    pub fn with_backend(backend: Arc<dyn PreviewServices>) -> Self {
        Self {
            project: String::new(),
            region: None,
            built: Arc::new(OnceCell::new_with(Some(backend))),
        }
    }

    /// The backend for a delivery in `ctx`. Building the Cloud Run client can fail (no
    /// credentials): a deployment mistake that a fixed deployment gets past, so a retry.
    pub async fn backend(&self, ctx: &Ctx) -> Result<Arc<dyn PreviewServices>, StepError> {
        // The dry run's seam: the runtime marks the context, the service picks the recorder.
        if let Some(plan) = ctx.plan() {
            return Ok(Arc::new(DryRunPreviews::new(plan.clone())));
        }
        let built = self.built.get_or_try_init(|| self.build()).await?;
        Ok(built.clone())
    }

    /// Whether the backend has been built (by a delivery, or given ready).
    pub fn is_built(&self) -> bool {
        self.built.initialized()
    }

    async fn build(&self) -> Result<Arc<dyn PreviewServices>, StepError> {
        let Some(region) = &self.region else {
            return Ok(Arc::new(SkippedPreviews));
        };
        let client = CloudRunPreviews::connect(self.project.clone(), region.clone())
            .await
            .map_err(|e| {
                StepError::transient(format!(
                    "building the Cloud Run client (CLOUD_RUN_REGION): {e}"
                ))
            })?;
        Ok(Arc::new(client))
    }
}

impl fmt::Debug for Previews {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Previews")
            .field("region", &self.region)
            .field("built", &self.is_built())
            .finish()
    }
}

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;
    use shared::backends::{publisher::RecordingPublisher, Plan};
    use shared::Backends;

    use super::*;
    use crate::previews::{Deployment, PreviewSpec, SKIPPED_REASON};

    /// A context without backends beyond a recording publisher; a dry run's when `plan` is set.
    fn ctx(plan: Option<Plan>) -> Ctx {
        Ctx::new(Backends {
            service: "env-provisioner".into(),
            events_topic: "events".into(),
            publisher: Arc::new(RecordingPublisher::new(Plan::default())),
            control_db: None,
            object_store: None,
            secrets: None,
            databases: None,
            plan,
        })
    }

    fn spec() -> PreviewSpec {
        PreviewSpec {
            environment: "shop".parse().unwrap(),
            image: "europe-docker.pkg.dev/acme/app:1".into(),
            env: BTreeMap::new(),
            credentials_secret: "ephemeral-shop-db-credentials".into(),
            labels: BTreeMap::new(),
            max_instances: 2,
            service_account: None,
        }
    }

    #[tokio::test]
    async fn a_dry_run_gets_previews_that_only_record_and_builds_no_client() {
        let env = Env::from_pairs([("CLOUD_RUN_REGION", "europe-west1")]);
        let previews = Previews::from_env(&env, "acme");
        let plan = Plan::default();
        let backend = previews.backend(&ctx(Some(plan.clone()))).await.unwrap();
        let deployed = backend.deploy(&spec()).await.unwrap();
        assert_eq!(
            deployed,
            Deployment::Skipped {
                reason: "dry run".into()
            }
        );
        let actions = plan.actions();
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert_eq!(actions[0]["backend"], json!("previews"));
        assert_eq!(actions[0]["action"], json!("deploy"));
        assert_eq!(actions[0]["service"], json!("env-shop"));
        assert!(
            !previews.is_built(),
            "a dry run must not build the Cloud Run client"
        );
    }

    #[tokio::test]
    async fn without_a_region_previews_are_skipped_and_built_on_first_use() {
        let previews = Previews::from_env(&Env::default(), "acme");
        assert!(!previews.is_built(), "nothing is built at start");
        let backend = previews.backend(&ctx(None)).await.unwrap();
        assert_eq!(
            backend.deploy(&spec()).await.unwrap(),
            Deployment::Skipped {
                reason: SKIPPED_REASON.into()
            }
        );
        assert!(previews.is_built());
    }

    #[test]
    fn a_region_is_read_but_no_client_is_built_at_start() {
        let env = Env::from_pairs([("CLOUD_RUN_REGION", "europe-west1")]);
        let previews = Previews::from_env(&env, "acme");
        assert!(!previews.is_built());
        let shown = format!("{previews:?}");
        assert!(shown.contains("europe-west1"), "{shown}");
    }
}

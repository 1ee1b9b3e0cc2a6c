//! IAM grants the plumbing needs, as read-modify-write of resource policies with the etag,
//! retried when a concurrent writer makes the write fail with ABORTED.
//!
//! Pub/Sub topics and subscriptions: the IAM mixin, exposed by the Pub/Sub crate on its
//! `SchemaService` client (the resource path picks topic or subscription). Cloud Run:
//! `Services::get/set_iam_policy` of `google-cloud-run-v2`.

use async_trait::async_trait;
use google_cloud_gax::error::rpc::Code;
use google_cloud_iam_v1::model::{Binding, Policy};
use serde::Serialize;

use crate::desired::{dead_letter_topic, push_subscription};
use crate::manifest::{Manifest, Mode};
use crate::store::progress;

/// Attempts before giving up on a policy that keeps changing under us.
pub const MAX_ATTEMPTS: u32 = 5;

/// get/set of one resource's IAM policy.
#[async_trait]
pub trait PolicyApi: Send + Sync {
    async fn get(&self, resource: &str) -> google_cloud_gax::Result<Policy>;
    async fn set(&self, resource: &str, policy: Policy) -> google_cloud_gax::Result<Policy>;
}

#[async_trait]
impl PolicyApi for google_cloud_pubsub::client::SchemaService {
    async fn get(&self, resource: &str) -> google_cloud_gax::Result<Policy> {
        self.get_iam_policy().set_resource(resource).send().await
    }
    async fn set(&self, resource: &str, policy: Policy) -> google_cloud_gax::Result<Policy> {
        self.set_iam_policy()
            .set_resource(resource)
            .set_policy(policy)
            .send()
            .await
    }
}

#[async_trait]
impl PolicyApi for google_cloud_run_v2::client::Services {
    async fn get(&self, resource: &str) -> google_cloud_gax::Result<Policy> {
        self.get_iam_policy().set_resource(resource).send().await
    }
    async fn set(&self, resource: &str, policy: Policy) -> google_cloud_gax::Result<Policy> {
        self.set_iam_policy()
            .set_resource(resource)
            .set_policy(policy)
            .send()
            .await
    }
}

/// Which API holds the resource's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    Pubsub,
    CloudRun,
}

/// `member` gets `role` on `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub api: Api,
    pub resource: String,
    pub role: String,
    pub member: String,
}

/// Every grant the manifest implies (google mode).
pub fn grants(manifest: &Manifest) -> Vec<Grant> {
    let (Some(iam), Some(region)) = (&manifest.iam, &manifest.region) else {
        return vec![];
    };
    let p = &manifest.project;
    let agent = format!("serviceAccount:{}", iam.pubsub_service_agent);
    let mut out = Vec::new();
    for s in &manifest.services {
        // Dead-lettering needs the service agent to publish to the DLQ and to ack the source.
        out.push(Grant {
            api: Api::Pubsub,
            resource: format!("projects/{p}/topics/{}", dead_letter_topic(&s.name)),
            role: "roles/pubsub.publisher".into(),
            member: agent.clone(),
        });
        for topic in &s.topics {
            out.push(Grant {
                api: Api::Pubsub,
                resource: format!(
                    "projects/{p}/subscriptions/{}",
                    push_subscription(&s.name, topic)
                ),
                role: "roles/pubsub.subscriber".into(),
                member: agent.clone(),
            });
        }
        if let Some(account) = s.oidc.as_ref().and_then(|o| o.service_account.clone()) {
            let service = s.cloud_run_service.as_deref().unwrap_or(&s.name);
            out.push(Grant {
                api: Api::CloudRun,
                resource: format!("projects/{p}/locations/{region}/services/{service}"),
                role: "roles/run.invoker".into(),
                member: format!("serviceAccount:{account}"),
            });
        }
    }
    out
}

/// Adds `grant` unless present. Returns whether the policy changed.
pub async fn ensure(api: &dyn PolicyApi, grant: &Grant) -> anyhow::Result<bool> {
    for attempt in 1..=MAX_ATTEMPTS {
        let mut policy = api.get(&grant.resource).await?;
        let binding = policy
            .bindings
            .iter_mut()
            .find(|b| b.role == grant.role && b.condition.is_none());
        match binding {
            Some(b) if b.members.contains(&grant.member) => return Ok(false),
            Some(b) => b.members.push(grant.member.clone()),
            None => policy.bindings.push(
                Binding::new()
                    .set_role(&grant.role)
                    .set_members([grant.member.clone()]),
            ),
        }
        // The policy still carries the etag we read: a concurrent change makes this ABORTED.
        match api.set(&grant.resource, policy).await {
            Ok(_) => return Ok(true),
            Err(e)
                if e.status().is_some_and(|s| s.code == Code::Aborted)
                    && attempt < MAX_ATTEMPTS =>
            {
                progress(format_args!(
                    "policy of {} changed concurrently; retrying",
                    grant.resource
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!(
        "policy of {} kept changing; gave up after {MAX_ATTEMPTS} attempts",
        grant.resource
    )
}

/// The manifest's grants with the clients to apply them.
pub struct Grants {
    pub pubsub: Box<dyn PolicyApi>,
    pub run: Box<dyn PolicyApi>,
    pub grants: Vec<Grant>,
}

impl Grants {
    /// Clients with default credentials; `None` on the emulator (it has no IAM).
    pub async fn for_manifest(
        manifest: &Manifest,
        emulator: Option<&str>,
    ) -> anyhow::Result<Option<Self>> {
        if manifest.mode == Mode::Emulator || emulator.is_some() {
            return Ok(None);
        }
        Ok(Some(Self {
            pubsub: Box::new(
                google_cloud_pubsub::client::SchemaService::builder()
                    .build()
                    .await?,
            ),
            run: Box::new(
                google_cloud_run_v2::client::Services::builder()
                    .build()
                    .await?,
            ),
            grants: grants(manifest),
        }))
    }

    /// Ensures every grant, in order.
    pub async fn apply(&self) -> anyhow::Result<()> {
        for grant in &self.grants {
            let api = match grant.api {
                Api::Pubsub => self.pubsub.as_ref(),
                Api::CloudRun => self.run.as_ref(),
            };
            if ensure(api, grant).await? {
                progress(format_args!(
                    "granted {} to {} on {}",
                    grant.role, grant.member, grant.resource
                ));
            }
        }
        Ok(())
    }
}

//! The clients that hold IAM policies, behind one small trait so `ensure` and doctor work
//! the same on each (and on the clients' stubs in tests).

use async_trait::async_trait;
use google_cloud_iam_v1::model::{GetPolicyOptions, Policy};

use super::Api;
use crate::manifest::{Manifest, Mode};

/// The policy format read and written. Project (and service account) policies may carry
/// conditional bindings: read as version 1 they come back mangled and a write would drop
/// the conditions, so every read asks for version 3 and every write declares it. Version 3
/// is valid for policies without conditions too, so every API gets the same rule.
pub const POLICY_VERSION: i32 = 3;

/// get/set of one resource's IAM policy.
#[async_trait]
pub trait PolicyApi: Send + Sync {
    /// The policy, as [`POLICY_VERSION`].
    async fn get(&self, resource: &str) -> google_cloud_gax::Result<Policy>;
    /// Writes `policy` (which carries the etag read) as [`POLICY_VERSION`].
    async fn set(&self, resource: &str, policy: Policy) -> google_cloud_gax::Result<Policy>;
}

/// The generated clients share the IAM mixin's request shapes; one impl fits all.
macro_rules! policy_api {
    ($($client:ty),+ $(,)?) => {$(
        #[async_trait]
        impl PolicyApi for $client {
            async fn get(&self, resource: &str) -> google_cloud_gax::Result<Policy> {
                self.get_iam_policy()
                    .set_resource(resource)
                    .set_options(
                        GetPolicyOptions::new().set_requested_policy_version(POLICY_VERSION),
                    )
                    .send()
                    .await
            }
            async fn set(
                &self,
                resource: &str,
                policy: Policy,
            ) -> google_cloud_gax::Result<Policy> {
                self.set_iam_policy()
                    .set_resource(resource)
                    .set_policy(policy.set_version(POLICY_VERSION))
                    .send()
                    .await
            }
        }
    )+};
}

policy_api!(
    google_cloud_pubsub::client::SchemaService,
    google_cloud_run_v2::client::Services,
    google_cloud_iam_admin_v1::client::Iam,
    google_cloud_resourcemanager_v3::client::Projects,
);

/// One client per [`Api`].
pub struct PolicyClients {
    pub pubsub: Box<dyn PolicyApi>,
    pub run: Box<dyn PolicyApi>,
    pub service_accounts: Box<dyn PolicyApi>,
    pub projects: Box<dyn PolicyApi>,
}

impl PolicyClients {
    /// The official clients with application default credentials.
    pub async fn connect() -> anyhow::Result<Self> {
        Ok(Self {
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
            service_accounts: Box::new(
                google_cloud_iam_admin_v1::client::Iam::builder()
                    .build()
                    .await?,
            ),
            projects: Box::new(
                google_cloud_resourcemanager_v3::client::Projects::builder()
                    .build()
                    .await?,
            ),
        })
    }

    /// The official clients in google mode; `None` on the emulator, which has no IAM (a
    /// manifest in google mode run against an emulator host included).
    pub async fn for_manifest(
        manifest: &Manifest,
        emulator: Option<&str>,
    ) -> anyhow::Result<Option<Self>> {
        if manifest.mode == Mode::Emulator || emulator.is_some() {
            return Ok(None);
        }
        Ok(Some(Self::connect().await?))
    }

    /// The client holding `api`'s policies.
    pub fn for_api(&self, api: Api) -> &dyn PolicyApi {
        match api {
            Api::Pubsub => self.pubsub.as_ref(),
            Api::CloudRun => self.run.as_ref(),
            Api::Iam => self.service_accounts.as_ref(),
            Api::ResourceManager => self.projects.as_ref(),
        }
    }
}

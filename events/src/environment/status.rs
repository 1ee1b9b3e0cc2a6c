//! What the provisioner reports: ready, failed, deleted. Never a password.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::labels::Labels;
use crate::names::{DbIdent, EnvName};
use crate::{types, Tier, TypedEvent};

/// `dev.groundskeeper.environment.ready.v1`: the environment exists and its credentials are
/// in the secret. Carries names only; `deny_unknown_fields` keeps a password from ever
/// travelling in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentReady {
    /// The environment.
    pub name: EnvName,
    /// Its tier.
    pub tier: Tier,
    /// Who asked for it.
    pub owner: String,
    /// The database server's host name or IP address.
    pub host: String,
    /// The database server's port.
    pub port: u16,
    /// The database.
    pub database: DbIdent,
    /// The login role whose password is in the `current` secret version.
    pub user: DbIdent,
    /// The credentials secret's resource name, e.g. `projects/P/secrets/dev-x-db-credentials`.
    pub secret: String,
    /// Where the environment's objects live, e.g. `gs://bucket/envs/x/`.
    pub object_prefix: String,
    /// The preview service's URL, when one was deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    /// Why no preview service runs although the request asked for one (e.g. the local
    /// stack has no Cloud Run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_skipped: Option<String>,
    /// When the TTL sweep will remove it; absent when it has no TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// All labels applied, including groundskeeper's own.
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
}

impl TypedEvent for EnvironmentReady {
    const TYPE: &'static str = types::ENVIRONMENT_READY;
}

/// `dev.groundskeeper.environment.failed.v1`: provisioning stopped; what this attempt
/// created was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentFailed {
    /// The environment.
    pub name: EnvName,
    /// The step that failed, e.g. `database`, `secret`, `service`.
    pub step: String,
    /// Why, in words a person can act on.
    pub reason: String,
}

impl TypedEvent for EnvironmentFailed {
    const TYPE: &'static str = types::ENVIRONMENT_FAILED;
}

/// Why an environment was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeleteReason {
    /// A teardown request.
    Requested,
    /// Its TTL ran out.
    TtlExpired,
}

/// `dev.groundskeeper.environment.deleted.v1`: everything the environment had is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentDeleted {
    /// The environment.
    pub name: EnvName,
    /// Why it was removed.
    pub reason: DeleteReason,
}

impl TypedEvent for EnvironmentDeleted {
    const TYPE: &'static str = types::ENVIRONMENT_DELETED;
}

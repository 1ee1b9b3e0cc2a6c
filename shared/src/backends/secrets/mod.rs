//! Versioned secrets with aliases: Secret Manager, or the control database locally.
//!
//! Every implementation follows Secret Manager's model, so a service behaves the same on
//! Google Cloud and on a laptop: a secret holds numbered versions (never reused), each
//! `Enabled`, `Disabled` or `Destroyed` (payload erased, for good); named aliases such as
//! `current` / `previous` / `pending` point at versions; the alias map is replaced as a whole
//! under an etag, so two writers racing on it cannot both win — the loser gets
//! [`SecretError::Conflict`], re-reads and retries.

mod dry_run;
mod local;
#[cfg(feature = "secret-manager")]
mod secret_manager;
mod validate;

pub use dry_run::{DryRunSecretStore, DRY_RUN_ETAG, DRY_RUN_VERSION};
pub use local::LocalSecretStore;
#[cfg(feature = "secret-manager")]
pub use secret_manager::SecretManagerStore;
pub use validate::{validate_alias, validate_labels, validate_secret_name};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use std::collections::BTreeMap;

/// Labels on a secret (Secret Manager label rules: lowercase keys and values).
pub type Labels = BTreeMap<String, String>;

/// The state of one secret version, as Secret Manager defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// Readable.
    Enabled,
    /// Kept but not readable; can be enabled again.
    Disabled,
    /// Payload erased; can never be read or enabled again.
    Destroyed,
}

impl VersionState {
    /// The lowercase name used in the control database and in plans.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Enabled => "enabled",
            VersionState::Disabled => "disabled",
            VersionState::Destroyed => "destroyed",
        }
    }
}

/// One version of a secret (metadata only, never the payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version number, starting at 1 and never reused within a secret.
    pub version: u64,
    /// Its state.
    pub state: VersionState,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A secret's metadata: labels, aliases, the etag guarding the aliases, and its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    /// The short secret name (not the resource name).
    pub name: String,
    /// Its labels.
    pub labels: Labels,
    /// Alias → version number, e.g. `current → 7`.
    pub aliases: BTreeMap<String, u64>,
    /// Pass this back to [`SecretStore::update_aliases`]; it changes on every update.
    pub etag: String,
    /// Every version, oldest first.
    pub versions: Vec<VersionInfo>,
}

impl SecretInfo {
    /// The version an alias points at, if the alias is set.
    pub fn alias(&self, alias: &str) -> Option<u64> {
        self.aliases.get(alias).copied()
    }

    /// The state of a version, if it exists.
    pub fn version_state(&self, version: u64) -> Option<VersionState> {
        self.versions
            .iter()
            .find(|v| v.version == version)
            .map(|v| v.state)
    }
}

/// Why a secret operation failed. Every variant names the secret, never its value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret, or the version or alias asked for, does not exist.
    #[error("secret `{secret}`{}: not found", at(.version))]
    NotFound {
        /// The secret name.
        secret: String,
        /// The version or alias asked for, when the secret itself exists or was not the point.
        version: Option<String>,
    },
    /// The etag did not match: someone else changed the secret since it was read. Re-read and
    /// retry.
    #[error("secret `{secret}` was changed concurrently (etag mismatch); re-read and retry")]
    Conflict {
        /// The secret name.
        secret: String,
    },
    /// The operation is not allowed in the current state (reading a disabled or destroyed
    /// version, enabling a destroyed one, creating a secret that exists with other labels).
    #[error("secret `{secret}`{}: {reason}", at(.version))]
    InvalidState {
        /// The secret name.
        secret: String,
        /// The version or alias concerned, if any.
        version: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A name, alias or label breaks Secret Manager's rules; retrying cannot help.
    #[error("secret `{secret}`: invalid argument: {reason}")]
    InvalidArgument {
        /// The secret name as given.
        secret: String,
        /// What is wrong.
        reason: String,
    },
    /// The backend failed (unreachable, permission denied, unexpected response).
    #[error("secret store failed for `{secret}`: {reason}")]
    Backend {
        /// The secret name.
        secret: String,
        /// What the backend said.
        reason: String,
    },
}

fn at(version: &Option<String>) -> String {
    version
        .as_ref()
        .map(|v| format!(" version `{v}`"))
        .unwrap_or_default()
}

impl SecretError {
    /// Whether retrying the operation (after a re-read, for `Conflict`) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SecretError::Conflict { .. } | SecretError::Backend { .. }
        )
    }

    pub(crate) fn not_found(secret: &str) -> Self {
        SecretError::NotFound {
            secret: secret.to_owned(),
            version: None,
        }
    }

    pub(crate) fn version_not_found(secret: &str, version: impl ToString) -> Self {
        SecretError::NotFound {
            secret: secret.to_owned(),
            version: Some(version.to_string()),
        }
    }

    pub(crate) fn invalid_state(
        secret: &str,
        version: Option<String>,
        reason: impl Into<String>,
    ) -> Self {
        SecretError::InvalidState {
            secret: secret.to_owned(),
            version,
            reason: reason.into(),
        }
    }

    pub(crate) fn backend(secret: &str, reason: impl ToString) -> Self {
        SecretError::Backend {
            secret: secret.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// A versioned secret store with Secret Manager's semantics. Names are short secret ids
/// (`dev-shop-db-credentials`), validated before they reach SQL or a resource name.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// Creates an empty secret. Returns `true` if created, `false` if it already existed with
    /// the same labels; with other labels it is [`SecretError::InvalidState`].
    async fn create_secret(&self, name: &str, labels: &Labels) -> Result<bool, SecretError>;

    /// The secret's metadata, or `None` if it does not exist.
    async fn get_secret(&self, name: &str) -> Result<Option<SecretInfo>, SecretError>;

    /// Adds an enabled version holding `payload` and returns its number.
    async fn add_version(&self, name: &str, payload: &SecretString) -> Result<u64, SecretError>;

    /// Reads a version by number (`"3"`), `"latest"` (the newest version, whatever its state)
    /// or alias (`"current"`). A disabled or destroyed version is
    /// [`SecretError::InvalidState`].
    async fn access(&self, name: &str, version_or_alias: &str)
        -> Result<SecretString, SecretError>;

    /// Replaces the whole alias map if `etag` is still current, and returns the new etag.
    /// A stale etag is [`SecretError::Conflict`]; an alias to a missing version is
    /// [`SecretError::NotFound`], to a destroyed one [`SecretError::InvalidState`].
    async fn update_aliases(
        &self,
        name: &str,
        aliases: &BTreeMap<String, u64>,
        etag: &str,
    ) -> Result<String, SecretError>;

    /// Disables a version. Idempotent; a destroyed version is [`SecretError::InvalidState`].
    async fn disable_version(&self, name: &str, version: u64) -> Result<(), SecretError>;

    /// Enables a disabled version. Idempotent; a destroyed version is
    /// [`SecretError::InvalidState`].
    async fn enable_version(&self, name: &str, version: u64) -> Result<(), SecretError>;

    /// Erases a version's payload for good. Idempotent. The local store refuses to destroy a
    /// version an alias points at ([`SecretError::InvalidState`]): move the alias first.
    async fn destroy_version(&self, name: &str, version: u64) -> Result<(), SecretError>;

    /// Deletes the secret and all its versions. Returns `false` if it did not exist.
    async fn delete_secret(&self, name: &str) -> Result<bool, SecretError>;

    /// Names of the secrets carrying every one of the given labels, sorted.
    async fn list_secrets(&self, label_filter: &[(&str, &str)])
        -> Result<Vec<String>, SecretError>;
}

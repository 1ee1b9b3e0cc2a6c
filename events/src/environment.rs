//! Environment lifecycle events, handled by `env-provisioner`.
//!
//! Requests come from people and CI (`groundskeeper env request`), the sweep from an hourly
//! Cloud Scheduler job; the status events are what the provisioner publishes back.

mod from_backup;
mod status;
mod teardown;

use serde::{Deserialize, Serialize};

pub use from_backup::BackupSource;
pub use status::{DeleteReason, EnvironmentDeleted, EnvironmentFailed, EnvironmentReady};
pub(crate) use teardown::window_key;
pub use teardown::{TeardownRequested, TtlSweep};

use crate::labels::{validate_labels, Labels};
use crate::names::EnvName;
use crate::{types, HumanDuration, Tier, TypedEvent};

/// Env var names Cloud Run sets itself and refuses in a service spec.
const RESERVED_ENV: &[&str] = &["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"];

/// `dev.groundskeeper.environment.requested.v1`: provision an isolated environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentRequested {
    /// The environment's name; everything it gets is named after it.
    pub name: EnvName,
    /// Who asked: a person's email or a CI identity (1-128 printable characters).
    pub owner: String,
    /// The tier; `prod` is refused.
    pub tier: Tier,
    /// How long it lives (e.g. `"48h"`). When absent: 72 h for `ephemeral`, none otherwise.
    /// The provisioner bounds it by its configured maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<HumanDuration>,
    /// Extra labels for every resource created (Google Cloud label rules apply).
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// A Cloud Run preview service to run in the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<PreviewService>,
    /// Start from another environment's backup: `SOURCE_ENV` (its newest verified backup) or
    /// `SOURCE_ENV@RFC3339` (the newest verified one at or before that time), restored into
    /// the new database. A `prod` source is refused: production data never flows into
    /// previews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_backup: Option<String>,
}

/// A container to deploy as the environment's Cloud Run preview service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewService {
    /// The container image, e.g. `europe-docker.pkg.dev/p/r/app:sha`.
    pub image: String,
    /// Environment variables (the credentials come as a secret reference, not here).
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub env: std::collections::BTreeMap<String, String>,
}

impl PreviewService {
    fn validate(&self) -> Result<(), String> {
        if self.image.is_empty() || self.image.len() > 1024 {
            return Err("service.image: must be 1-1024 characters".into());
        }
        if self
            .image
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "service.image: {:?} contains whitespace",
                self.image
            ));
        }
        for key in self.env.keys() {
            let valid_start = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            if !valid_start || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("service.env: {key:?} is not a valid variable name"));
            }
            if RESERVED_ENV.contains(&key.as_str()) {
                return Err(format!(
                    "service.env.{key}: set by Cloud Run, cannot be given"
                ));
            }
        }
        Ok(())
    }
}

impl TypedEvent for EnvironmentRequested {
    const TYPE: &'static str = types::ENVIRONMENT_REQUESTED;

    fn validate(&self) -> Result<(), String> {
        if !self.tier.is_requestable() {
            return Err(
                "tier: `prod` cannot be requested; groundskeeper provisions only ephemeral, dev and staging environments"
                    .into(),
            );
        }
        let owner_len = self.owner.chars().count();
        if owner_len == 0 || owner_len > 128 || self.owner.chars().any(char::is_control) {
            return Err("owner: must be 1-128 printable characters".into());
        }
        if self.ttl.is_some_and(|ttl| ttl.as_secs() == 0) {
            return Err("ttl: must be longer than zero".into());
        }
        validate_labels(&self.labels)?;
        if let Some(service) = &self.service {
            service.validate()?;
        }
        self.from_backup()?;
        Ok(())
    }
}

impl EnvironmentRequested {
    /// The backup to start from, parsed from `from_backup` (see [`BackupSource`]); the error
    /// names the field.
    pub fn from_backup(&self) -> Result<Option<BackupSource>, String> {
        self.from_backup
            .as_deref()
            .map(|value| from_backup::parse(value, &self.name))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is the failure report
    use super::*;

    #[test]
    fn validate_refuses_a_bad_from_backup_naming_the_field() {
        let request = |from: &str| -> EnvironmentRequested {
            serde_json::from_value(serde_json::json!({
                "name": "preview-1", "owner": "ci@x", "tier": "ephemeral", "from_backup": from
            }))
            .unwrap()
        };
        assert_eq!(request("staging@2026-11-26T02:00:00Z").validate(), Ok(()));
        for bad in ["", "staging@noon", "preview-1", "Staging"] {
            let err = request(bad).validate().unwrap_err();
            assert!(err.starts_with("from_backup: "), "{bad}: {err}");
        }
    }
}

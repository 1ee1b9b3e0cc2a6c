//! Credential rotation events, handled and published by `secret-rotator`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::environment::window_key;
use crate::names::{DbIdent, EnvName, SecretId};
use crate::{types, TypedEvent};

/// `dev.groundskeeper.rotation.due.v1`: the daily Cloud Scheduler sweep; rotates every managed
/// secret whose last rotation is older than its policy, and reports overdue ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationDue {
    /// The schedule window, when stated (see [`crate::environment::TtlSweep::window`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DateTime<Utc>>,
}

impl TypedEvent for RotationDue {
    const TYPE: &'static str = types::ROTATION_DUE;

    fn idempotency_key(&self) -> Option<String> {
        window_key(Self::TYPE, self.window)
    }
}

/// `dev.groundskeeper.rotation.requested.v1`: rotate now, by secret or by environment
/// (exactly one of the two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationRequested {
    /// The secret to rotate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretId>,
    /// The environment whose credentials secret to rotate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvName>,
    /// Why, for the record (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl TypedEvent for RotationRequested {
    const TYPE: &'static str = types::ROTATION_REQUESTED;

    fn validate(&self) -> Result<(), String> {
        match (&self.secret, &self.environment) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            (None, None) => Err("give `secret` or `environment`: neither is set".into()),
            (Some(_), Some(_)) => Err("give `secret` or `environment`, not both".into()),
        }
    }
}

/// `dev.groundskeeper.secret.rotated.v1`: a new credential is `current`. Names and version
/// numbers only, never a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRotated {
    /// The secret.
    pub secret: SecretId,
    /// The environment it belongs to, when it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvName>,
    /// The version now aliased `current`.
    pub version: String,
    /// The version now aliased `previous`, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// The login role the credential now belongs to.
    pub role: DbIdent,
}

impl TypedEvent for SecretRotated {
    const TYPE: &'static str = types::SECRET_ROTATED;
}

/// `dev.groundskeeper.secret.rotation.failed.v1`: a rotation stopped; `current` still works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationFailed {
    /// The secret.
    pub secret: SecretId,
    /// The protocol step that failed: `check`, `create`, `set`, `test`, `finish` or `grace`.
    pub step: String,
    /// Why, in words a person can act on.
    pub reason: String,
}

impl TypedEvent for RotationFailed {
    const TYPE: &'static str = types::SECRET_ROTATION_FAILED;
}

/// `dev.groundskeeper.secret.rotation.manual_required.v1`: a secret people rotate by hand
/// (an API key) is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationManualRequired {
    /// The secret.
    pub secret: SecretId,
    /// When it was last rotated, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotated: Option<DateTime<Utc>>,
    /// When it became due.
    pub due_at: DateTime<Utc>,
    /// The rotation policy, in days (the platform's manual policy is 90).
    pub policy_days: u32,
}

impl TypedEvent for RotationManualRequired {
    const TYPE: &'static str = types::SECRET_ROTATION_MANUAL_REQUIRED;
}

/// `dev.groundskeeper.secret.rotation.overdue.v1`: a rotation is more than one policy period
/// late: the dead-man's switch for rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationOverdue {
    /// The secret.
    pub secret: SecretId,
    /// When it was last rotated, if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotated: Option<DateTime<Utc>>,
    /// When the rotation was due.
    pub due_at: DateTime<Utc>,
    /// The rotation policy, in days.
    pub policy_days: u32,
}

impl TypedEvent for RotationOverdue {
    const TYPE: &'static str = types::SECRET_ROTATION_OVERDUE;
}

//! Resource labels: the one vocabulary every groundskeeper crate reads and writes, checked
//! against Google Cloud's label rules before requested labels reach any API.
//!
//! Every key the platform itself sets or reads is here and reserved, so a request can never
//! set one: a label the platform *reads* (rotation policy, ownership, tier) decides what the
//! platform does, and must come from the platform.

use std::collections::BTreeMap;

/// Labels as they travel in our events: key → value.
pub type Labels = BTreeMap<String, String>;

/// `managed-by`: present, with [`MANAGED_BY_VALUE`], on everything groundskeeper created.
pub const MANAGED_BY: &str = "managed-by";
/// The value of [`MANAGED_BY`].
pub const MANAGED_BY_VALUE: &str = "groundskeeper";
/// `environment`: the environment a resource belongs to.
pub const ENVIRONMENT: &str = "environment";
/// `tier`: the environment's tier (`ephemeral`, `dev`, `staging`, `prod`). Budgets filter on
/// it, and the rotator picks its policy by it.
pub const TIER: &str = "tier";
/// `owner`: who asked for the environment, label-safe.
pub const OWNER: &str = "owner";
/// `expires-at`: when a TTL ends (`20261122t100000z`).
pub const EXPIRES_AT: &str = "expires-at";
/// `rotation`: a secret's rotation mode (`alternating`, `single-user`, `manual`).
pub const ROTATION: &str = "rotation";
/// `rotation-period-days`: overrides the rotation policy's period.
pub const ROTATION_PERIOD_DAYS: &str = "rotation-period-days";
/// `groundskeeper-kind`: what kind of groundskeeper resource this is, so resources that share
/// a naming scheme cannot be mistaken for each other (a preview `env-x` is never a platform
/// service).
pub const KIND: &str = "groundskeeper-kind";
/// [`KIND`] of the platform's own services (env-provisioner, secret-rotator, …). No
/// environment resource ever carries it.
pub const KIND_PLATFORM: &str = "platform";
/// [`KIND`] of an environment's Cloud Run preview service.
pub const KIND_PREVIEW: &str = "preview";

/// Label keys groundskeeper sets or reads itself; a request may not set them.
pub const RESERVED_LABELS: &[&str] = &[
    MANAGED_BY,
    EXPIRES_AT,
    ENVIRONMENT,
    TIER,
    OWNER,
    ROTATION,
    ROTATION_PERIOD_DAYS,
    KIND,
];

/// Google Cloud allows at most 64 labels per resource.
const MAX_LABELS: usize = 64;

/// Whether `labels` say groundskeeper manages the resource.
pub fn is_managed(labels: &Labels) -> bool {
    labels.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE)
}

/// Whether `labels` say the resource is groundskeeper's and belongs to `environment`: both
/// labels, never the name alone (names collide, labels are checked).
pub fn belongs_to_environment(labels: &Labels, environment: &str) -> bool {
    is_managed(labels) && labels.get(ENVIRONMENT).map(String::as_str) == Some(environment)
}

fn label_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Checks requested labels: at most 64 minus the reserved ones; keys 1-63 characters
/// starting with a lowercase letter; keys and values only `[a-z0-9_-]`, values at most 63;
/// no reserved key. The error names the label.
pub fn validate_labels(labels: &Labels) -> Result<(), String> {
    if labels.len() + RESERVED_LABELS.len() > MAX_LABELS {
        return Err(format!(
            "labels: {} given; at most {} (Google Cloud allows {MAX_LABELS} and groundskeeper sets {})",
            labels.len(),
            MAX_LABELS - RESERVED_LABELS.len(),
            RESERVED_LABELS.len()
        ));
    }
    for (key, value) in labels {
        if RESERVED_LABELS.contains(&key.as_str()) {
            return Err(format!("labels.{key}: this label is set by groundskeeper"));
        }
        if key.is_empty() || key.len() > 63 {
            return Err(format!("labels: key {key:?} must be 1-63 characters"));
        }
        if !key.starts_with(|c: char| c.is_ascii_lowercase()) || !label_chars_ok(key) {
            return Err(format!(
                "labels: key {key:?} must start with a lowercase letter and use only a-z, 0-9, - and _"
            ));
        }
        if value.len() > 63 || !label_chars_ok(value) {
            return Err(format!(
                "labels.{key}: value {value:?} must be at most 63 characters of a-z, 0-9, - and _"
            ));
        }
    }
    Ok(())
}

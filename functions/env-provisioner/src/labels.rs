//! The labels every resource of an environment carries.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use events::environment::EnvironmentRequested;
use events::labels as keys;

/// The request's labels plus groundskeeper's own: `managed-by`, `environment`, `tier`,
/// `owner` (made label-safe) and `expires-at` (UTC, `20261122t100000z`; label values allow
/// no `:`) when it has a TTL.
pub fn labels_for(
    request: &EnvironmentRequested,
    expires_at: Option<DateTime<Utc>>,
) -> BTreeMap<String, String> {
    let mut labels = request.labels.clone();
    labels.insert(keys::MANAGED_BY.into(), keys::MANAGED_BY_VALUE.into());
    labels.insert(keys::ENVIRONMENT.into(), request.name.to_string());
    labels.insert(keys::TIER.into(), request.tier.as_str().into());
    labels.insert(keys::OWNER.into(), label_value(&request.owner));
    if let Some(at) = expires_at {
        labels.insert(
            keys::EXPIRES_AT.into(),
            at.format("%Y%m%dt%H%M%Sz").to_string(),
        );
    }
    labels
}

/// `value` in Google Cloud's label alphabet: lowercase, `[a-z0-9_-]`, at most 63 characters.
fn label_value(value: &str) -> String {
    value
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_become_label_safe() {
        assert_eq!(label_value("Jane.Doe@Example.com"), "jane_doe_example_com");
        assert_eq!(label_value(&"x".repeat(100)).len(), 63);
    }
}

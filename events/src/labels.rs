//! Resource labels, checked against Google Cloud's label rules before they reach any API.

use std::collections::BTreeMap;

/// Labels as they travel in our events: key → value.
pub type Labels = BTreeMap<String, String>;

/// Label keys groundskeeper sets itself; a request may not set them.
pub const RESERVED_LABELS: &[&str] = &["managed-by", "expires-at", "environment", "tier", "owner"];

/// Google Cloud allows at most 64 labels per resource.
const MAX_LABELS: usize = 64;

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

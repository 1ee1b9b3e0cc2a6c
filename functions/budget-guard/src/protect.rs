//! Which resources budget-guard may touch. [`never_touch`] is a rule, not a default: no
//! configuration, budget or scope can make it touch production, a resource groundskeeper does
//! not manage, or one a person excluded.

use events::labels::{Labels, MANAGED_BY, MANAGED_BY_VALUE, TIER};
use events::Tier;

/// Label a person sets to keep budget-guard away from a resource
/// (`budget-guard=exclude`). Not reserved in `events::labels`: people must be able to set it.
pub const EXCLUDE_LABEL: &str = "budget-guard";
/// The value of [`EXCLUDE_LABEL`] that excludes.
pub const EXCLUDE_VALUE: &str = "exclude";

/// Why a resource is left alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    /// Tiered `prod`: never downscaled.
    #[error("tier prod is never downscaled")]
    Prod,
    /// Lacks `managed-by=groundskeeper`: not ours.
    #[error("not labelled {MANAGED_BY}={MANAGED_BY_VALUE}")]
    NotManaged,
    /// Labelled `budget-guard=exclude`.
    #[error("labelled {EXCLUDE_LABEL}={EXCLUDE_VALUE}")]
    Excluded,
    /// Managed, but of another tier than the budget's (or of none).
    #[error("tier {found:?} is outside the budget's scope {scope}")]
    OutOfScope {
        /// The budget's tier.
        scope: Tier,
        /// The resource's `tier` label, if any.
        found: Option<String>,
    },
}

/// The rule: `Some(reason)` when a resource with these labels must never be touched,
/// whatever the configuration says.
pub fn never_touch(labels: &Labels) -> Option<Skip> {
    let label = |key: &str| labels.get(key).map(String::as_str);
    // Labels are lowercase on Google Cloud, but local records are not checked as strictly:
    // anything that reads as prod counts as prod.
    if label(TIER).is_some_and(|t| t.trim().eq_ignore_ascii_case(Tier::Prod.as_str())) {
        return Some(Skip::Prod);
    }
    if label(MANAGED_BY) != Some(MANAGED_BY_VALUE) {
        return Some(Skip::NotManaged);
    }
    if label(EXCLUDE_LABEL).is_some_and(|v| v.trim().eq_ignore_ascii_case(EXCLUDE_VALUE)) {
        return Some(Skip::Excluded);
    }
    None
}

/// Whether a budget scoped to `scope` may touch a resource with these labels: the rule first,
/// then its `tier` label must be exactly the budget's tier.
pub fn may_touch(labels: &Labels, scope: Tier) -> Result<(), Skip> {
    if let Some(skip) = never_touch(labels) {
        return Err(skip);
    }
    match labels.get(TIER) {
        Some(tier) if tier == scope.as_str() => Ok(()),
        found => Err(Skip::OutOfScope {
            scope,
            found: found.cloned(),
        }),
    }
}

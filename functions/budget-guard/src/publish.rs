//! Ids of the events budget-guard emits: derived from the budget, the period and what
//! happened, so a redelivery that emits again gives consumers the same id to deduplicate.

use crate::journal::BudgetPeriod;

/// `budget-guard/{account}/{budget}/{period start}/{what}`.
pub fn event_id(period: &BudgetPeriod, what: &str) -> String {
    format!(
        "budget-guard/{}/{}/{}",
        period.budget,
        period
            .start
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        what
    )
}

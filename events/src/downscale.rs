//! What `budget-guard` saw and did about spend: a budget crossed its notify level, resources
//! were scaled down or resumed, and a person's request to resume a budget's resources early.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{types, TypedEvent};

/// The kind of resource a scaling action touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// A Cloud Run service.
    CloudRunService,
    /// A Cloud SQL instance.
    CloudSqlInstance,
    /// An environment's database (connections suspended).
    Database,
}

/// What was done to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScaleAction {
    /// Reduced (e.g. max instances lowered, tier shrunk).
    ScaledDown,
    /// Stopped entirely (scaled to zero, connections refused).
    Suspended,
    /// Returned to its recorded size.
    Resumed,
    /// Not resumed: someone changed it while it was suspended, so it was left as found.
    LeftAsFound,
}

/// One resource and what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaledTarget {
    /// The kind of resource.
    pub kind: TargetKind,
    /// Its full name, e.g. `projects/p/locations/r/services/env-x`.
    pub name: String,
    /// What was done.
    pub action: ScaleAction,
    /// The settings it had before (the ones a resume puts back), as budget-guard records them.
    pub before: serde_json::Value,
    /// The settings it has after (for [`ScaleAction::LeftAsFound`]: what it was found with).
    pub after: serde_json::Value,
}

/// A resource in scope that was left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SkippedTarget {
    /// The kind of resource.
    pub kind: TargetKind,
    /// Its full name.
    pub name: String,
    /// Why, e.g. `a read replica cannot be stopped`.
    pub reason: String,
}

/// `dev.groundskeeper.downscale.applied.v1`: resources were scaled down or suspended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownscaleApplied {
    /// The budget's billing account (`billingAccountId` of the notification).
    pub billing_account: String,
    /// The budget that triggered it (`budgetId` of the notification).
    pub budget_id: String,
    /// The start of the budget period the spend belongs to.
    pub cost_interval_start: DateTime<Utc>,
    /// Cost divided by budget at the time of the decision (e.g. `0.92`).
    pub spend_ratio: f64,
    /// The level applied: `cap` or `stop`.
    pub level: String,
    /// What was done.
    pub targets: Vec<ScaledTarget>,
    /// What was in scope but left alone.
    #[serde(default)]
    pub skipped: Vec<SkippedTarget>,
}

/// A ratio field: finite and not negative.
fn check_ratio(field: &str, value: f64) -> Result<(), String> {
    if !value.is_finite() || value < 0.0 {
        return Err(format!("{field}: {value} is not a finite ratio ≥ 0"));
    }
    Ok(())
}

impl TypedEvent for DownscaleApplied {
    const TYPE: &'static str = types::DOWNSCALE_APPLIED;

    fn validate(&self) -> Result<(), String> {
        check_ratio("spend_ratio", self.spend_ratio)?;
        match self.level.as_str() {
            "cap" | "stop" => Ok(()),
            other => Err(format!("level: {other:?} is not cap or stop")),
        }
    }
}

/// `dev.groundskeeper.downscale.resumed.v1`: a new budget period began (or a person asked
/// early); resources were returned to their recorded settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownscaleResumed {
    /// The budget's billing account.
    pub billing_account: String,
    /// The budget.
    pub budget_id: String,
    /// The start of the period whose suspensions were lifted.
    pub cost_interval_start: DateTime<Utc>,
    /// Why now: `new-period` or `requested`.
    pub reason: String,
    /// What was resumed, or left as found.
    pub targets: Vec<ScaledTarget>,
}

impl TypedEvent for DownscaleResumed {
    const TYPE: &'static str = types::DOWNSCALE_RESUMED;
}

/// `dev.groundskeeper.budget.threshold.v1`: a budget's actual spend reached the notify
/// level of its period (once per period). Nothing was scaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetThreshold {
    /// The budget's billing account.
    pub billing_account: String,
    /// The budget.
    pub budget_id: String,
    /// The budget's display name, as Cloud Billing sent it.
    pub budget_display_name: String,
    /// The start of the budget period.
    pub cost_interval_start: DateTime<Utc>,
    /// Cost divided by budget.
    pub spend_ratio: f64,
    /// Cost so far, in `currency_code`.
    pub cost_amount: f64,
    /// The budgeted amount, in `currency_code`.
    pub budget_amount: f64,
    /// As sent, never converted.
    pub currency_code: String,
}

impl TypedEvent for BudgetThreshold {
    const TYPE: &'static str = types::BUDGET_THRESHOLD;

    fn validate(&self) -> Result<(), String> {
        check_ratio("spend_ratio", self.spend_ratio)
    }
}

/// `dev.groundskeeper.budget.resume.requested.v1`: put back now what a budget suspended
/// (`groundskeeper budget resume`), before its period ends. Nothing more is applied for
/// that budget in the same period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequested {
    /// The budget's billing account.
    pub billing_account: String,
    /// The budget.
    pub budget_id: String,
    /// Who asked, for the record.
    #[serde(default)]
    pub requested_by: Option<String>,
}

impl TypedEvent for ResumeRequested {
    const TYPE: &'static str = types::BUDGET_RESUME_REQUESTED;

    fn validate(&self) -> Result<(), String> {
        for (field, value) in [
            ("billing_account", &self.billing_account),
            ("budget_id", &self.budget_id),
        ] {
            let ok = !value.is_empty()
                && value.len() <= 128
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(format!(
                    "{field}: {value:?} must be 1-128 letters, digits, - or _"
                ));
            }
        }
        Ok(())
    }
}

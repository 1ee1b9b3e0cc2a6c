//! What `budget-guard` did about spend: scaled non-production resources down, or resumed them.

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
}

/// One resource and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaledTarget {
    /// The kind of resource.
    pub kind: TargetKind,
    /// Its full name, e.g. `projects/p/locations/r/services/env-x`.
    pub name: String,
    /// What was done.
    pub action: ScaleAction,
}

/// `dev.groundskeeper.downscale.applied.v1`: resources were scaled down or suspended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownscaleApplied {
    /// The budget that triggered it (`budgetId` of the notification).
    pub budget_id: String,
    /// The start of the budget period the spend belongs to.
    pub cost_interval_start: DateTime<Utc>,
    /// Cost divided by budget at the time of the decision (e.g. `0.92`).
    pub spend_ratio: f64,
    /// What was done.
    pub targets: Vec<ScaledTarget>,
}

impl TypedEvent for DownscaleApplied {
    const TYPE: &'static str = types::DOWNSCALE_APPLIED;

    fn validate(&self) -> Result<(), String> {
        if !self.spend_ratio.is_finite() || self.spend_ratio < 0.0 {
            return Err(format!(
                "spend_ratio: {} is not a finite ratio ≥ 0",
                self.spend_ratio
            ));
        }
        Ok(())
    }
}

/// `dev.groundskeeper.downscale.resumed.v1`: a new budget period began; resources were
/// returned to their recorded sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownscaleResumed {
    /// The budget.
    pub budget_id: String,
    /// The start of the new budget period.
    pub cost_interval_start: DateTime<Utc>,
    /// What was resumed.
    pub targets: Vec<ScaledTarget>,
}

impl TypedEvent for DownscaleResumed {
    const TYPE: &'static str = types::DOWNSCALE_RESUMED;
}

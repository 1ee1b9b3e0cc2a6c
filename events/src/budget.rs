//! Cloud Billing budget notifications, as Google publishes them to a budget's Pub/Sub topic.
//!
//! Read tolerantly (unknown fields ignored): Google adds fields without notice. The message
//! carries no type; the decoder recognises it by its `billingAccountId` and `budgetId`
//! attributes and gives it [`types::BUDGET_NOTIFICATION`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{types, DecodeError, Payload, RawEvent};

/// A budget notification: the attributes and the data together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetNotification {
    /// Attribute `billingAccountId`, e.g. `01D4EE-079462-DFD6EC`; empty only when the
    /// message has neither attribute (see [`BudgetNotification::is_unattributed`]).
    pub billing_account_id: String,
    /// Attribute `budgetId`; empty only with `billing_account_id`.
    pub budget_id: String,
    /// Attribute `schemaVersion` (`1.0`), when present.
    pub schema_version: Option<String>,
    /// The message data.
    pub data: BudgetData,
}

/// The data of a budget notification. Amounts may be integers or decimals on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetData {
    /// The budget's display name.
    pub budget_display_name: String,
    /// The alert threshold just crossed (e.g. `0.9`), only in the notification that crosses it.
    #[serde(default)]
    pub alert_threshold_exceeded: Option<f64>,
    /// The forecast threshold just crossed, only in the notification that crosses it.
    #[serde(default)]
    pub forecast_threshold_exceeded: Option<f64>,
    /// Cost so far in the budget period.
    pub cost_amount: f64,
    /// Start of the budget period.
    pub cost_interval_start: DateTime<Utc>,
    /// The budgeted amount.
    pub budget_amount: f64,
    /// `SPECIFIED_AMOUNT` or `LAST_PERIOD_AMOUNT` (kept as sent, so new values decode).
    pub budget_amount_type: String,
    /// ISO 4217 currency of the amounts, e.g. `EUR`.
    pub currency_code: String,
}

impl BudgetNotification {
    /// Reads attributes and data from a decoded delivery.
    pub fn from_raw(raw: &RawEvent) -> Result<Self, DecodeError> {
        let invalid = |reason: String| DecodeError::InvalidPayload {
            ty: raw.ty.clone(),
            reason,
        };
        let required = |name: &str| {
            raw.attribute(name)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| invalid(format!("attribute `{name}` is missing")))
        };
        let data = serde_json::from_slice(&raw.data).map_err(|e| invalid(format!("data: {e}")))?;
        let present = |name| raw.attribute(name).is_some_and(|v| !v.is_empty());
        // Neither attribute: published by hand (Google's documented test message), which
        // names no budget. One without the other is a broken message.
        let (billing_account_id, budget_id) =
            if !present("billingAccountId") && !present("budgetId") {
                (String::new(), String::new())
            } else {
                (required("billingAccountId")?, required("budgetId")?)
            };
        Ok(Self {
            billing_account_id,
            budget_id,
            schema_version: raw.attribute("schemaVersion").map(str::to_owned),
            data,
        })
    }

    /// The message named no budget at all (neither `billingAccountId` nor `budgetId`): a
    /// test published by hand, which nothing can be attributed to.
    pub fn is_unattributed(&self) -> bool {
        self.billing_account_id.is_empty() && self.budget_id.is_empty()
    }

    /// Cost divided by budget (`0.92` is 92 %), or `None` for a zero budget.
    pub fn spend_ratio(&self) -> Option<f64> {
        (self.data.budget_amount > 0.0).then(|| self.data.cost_amount / self.data.budget_amount)
    }
}

impl Payload for BudgetNotification {
    fn accepts() -> &'static [&'static str] {
        &[types::BUDGET_NOTIFICATION]
    }

    fn decode(raw: &RawEvent) -> Result<Self, DecodeError> {
        Self::from_raw(raw)
    }
}

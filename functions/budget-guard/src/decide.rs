//! From one budget notification to the level it reaches: pure, no I/O.
//!
//! Cloud Billing publishes a budget's status several times a day whether or not a threshold
//! was crossed, so the level comes from the spend ratio of every notification, never from
//! the threshold fields alone. A forecast never scales anything: it is only reported.

use chrono::{DateTime, Utc};
use events::budget::BudgetNotification;
use events::Tier;

use crate::config::{BudgetKey, Config, Ladder};

/// How far down the ladder a budget is; ordered, so a higher level is a later step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Report the figures, scale nothing.
    Notify = 1,
    /// Cap Cloud Run, suspend the environments' databases.
    Cap = 2,
    /// Stop Cloud SQL, Cloud Run at its floor.
    Stop = 3,
}

impl Level {
    /// The level a spend ratio reaches on `ladder`; `None` below its first step.
    pub fn of_ratio(ratio: f64, ladder: &Ladder) -> Option<Self> {
        [
            (ladder.stop, Self::Stop),
            (ladder.cap, Self::Cap),
            (ladder.notify, Self::Notify),
        ]
        .into_iter()
        .find(|(start, _)| ratio >= *start)
        .map(|(_, level)| level)
    }

    /// Lowercase name, for logs, events and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notify => "notify",
            Self::Cap => "cap",
            Self::Stop => "stop",
        }
    }
}

/// What one notification means for its budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The configured budget it is about.
    pub budget: BudgetKey,
    /// The tier whose resources this budget may scale.
    pub scope: Tier,
    /// `costIntervalStart`: the budget period; a later one means "restore the previous".
    pub period_start: DateTime<Utc>,
    /// `costAmount / budgetAmount`, from this notification's own figures.
    pub spend_ratio: f64,
    /// The level actual spend reaches (forecasts never count).
    pub level: Option<Level>,
    /// `forecastThresholdExceeded`, when this notification carries one: reported only.
    pub forecast_threshold: Option<f64>,
    /// `costAmount`, in `currency`, as sent.
    pub cost_amount: f64,
    /// `budgetAmount`, in `currency`, as sent.
    pub budget_amount: f64,
    /// `currencyCode`, passed through, never converted.
    pub currency: String,
    /// `budgetAmountType`, opaque.
    pub budget_amount_type: String,
}

/// Why a notification can never be acted on (it goes to the dead-letter topic).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// The (billing account, budget) pair is not in `BUDGETS`: forged, foreign or a probe.
    #[error(
        "not a configured budget: billingAccountId {billing_account:?}, budgetId {budget_id:?}"
    )]
    UnknownBudget {
        /// Attribute `billingAccountId`.
        billing_account: String,
        /// Attribute `budgetId`.
        budget_id: String,
    },
    /// A period that has not begun: Cloud Billing's `costIntervalStart` is the start of the
    /// current period. Recorded as the budget's latest, it would make every real
    /// notification after it late, silencing the guard until that date.
    #[error("costIntervalStart: {start} is in the future (now {now})")]
    FuturePeriod {
        /// `costIntervalStart`.
        start: DateTime<Utc>,
        /// The time of the check.
        now: DateTime<Utc>,
    },
    /// A figure no ratio can be computed from.
    #[error("{field}: {value} {reason}")]
    BadAmount {
        /// The data field, as on the wire.
        field: &'static str,
        /// Its value.
        value: f64,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Decides what `n` means under `config`. An unknown budget is rejected before its figures
/// are even read: a forged message must not shape anything.
pub fn decide(n: &BudgetNotification, config: &Config) -> Result<Decision, Rejection> {
    let scope = config
        .scope_of(&n.billing_account_id, &n.budget_id)
        .ok_or_else(|| Rejection::UnknownBudget {
            billing_account: n.billing_account_id.clone(),
            budget_id: n.budget_id.clone(),
        })?;
    let d = &n.data;
    let bad = |field, value, reason| {
        Err(Rejection::BadAmount {
            field,
            value,
            reason,
        })
    };
    if !d.budget_amount.is_finite() {
        return bad("budgetAmount", d.budget_amount, "is not a finite number");
    }
    if d.budget_amount <= 0.0 {
        return bad("budgetAmount", d.budget_amount, "must be above zero");
    }
    if !d.cost_amount.is_finite() {
        return bad("costAmount", d.cost_amount, "is not a finite number");
    }
    let spend_ratio = d.cost_amount / d.budget_amount;
    if !spend_ratio.is_finite() {
        // A tiny budget can overflow the division; no level can be trusted from it.
        return bad(
            "budgetAmount",
            d.budget_amount,
            "is too small for a spend ratio",
        );
    }
    Ok(Decision {
        budget: BudgetKey {
            billing_account: n.billing_account_id.clone(),
            budget_id: n.budget_id.clone(),
        },
        scope,
        period_start: d.cost_interval_start,
        spend_ratio,
        level: Level::of_ratio(spend_ratio, &config.ladder),
        forecast_threshold: d.forecast_threshold_exceeded,
        cost_amount: d.cost_amount,
        budget_amount: d.budget_amount,
        currency: d.currency_code.clone(),
        budget_amount_type: d.budget_amount_type.clone(),
    })
}

/// Refuses a decision whose period starts more than `ahead` after `now`.
pub fn check_period(
    d: &Decision,
    now: DateTime<Utc>,
    ahead: chrono::TimeDelta,
) -> Result<(), Rejection> {
    if d.period_start > now + ahead {
        return Err(Rejection::FuturePeriod {
            start: d.period_start,
            now,
        });
    }
    Ok(())
}

//! The control-database journal that makes budget-guard act once per (budget, period, level)
//! across duplicate and concurrent deliveries on any number of replicas, and restore exactly.
//!
//! A level is claimed with a lease before any resource is touched and completed after the
//! last one: a duplicate meanwhile is told to retry, a lower or equal level afterwards does
//! nothing, a higher one applies only its delta. A crash leaves the lease to run out (or the
//! same message, redelivered, resumes at once). Each resource's settings are recorded before
//! it is changed, and the first record stays: it is the original a new period restores.
//! Once a later period of a budget is seen, an earlier one's late notifications are stale and
//! claim nothing, so they cannot suspend again what the new period restored.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

mod levels;
mod resources;

use crate::config::BudgetKey;
use crate::decide::Level;

/// One budget period: the budget and its `costIntervalStart`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetPeriod {
    /// The budget.
    pub budget: BudgetKey,
    /// `costIntervalStart`.
    pub start: DateTime<Utc>,
}

/// The answer to [`Journal::claim_level`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This delivery applies the level; everything up to `previous` (the highest completed
    /// level) is already done, so only the delta is left.
    Won {
        /// The highest level completed before, if any.
        previous: Option<Level>,
    },
    /// This level, or a higher one, is complete for the period: nothing to do.
    Reached(Level),
    /// Another delivery holds the lease on `level`: retry later.
    Busy {
        /// The level it is applying.
        level: Level,
        /// Its delivery.
        by: String,
    },
    /// A later period of the budget has been seen: this notification is late, and acting on
    /// it would suspend again what the new period restored.
    Stale {
        /// The latest period seen.
        latest: DateTime<Utc>,
    },
    /// A person resumed the budget early in this period: nothing more is applied until
    /// the next one.
    Resumed {
        /// When.
        at: DateTime<Utc>,
    },
}

/// The answer to [`Journal::resume_early`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlyResume {
    /// The budget's latest period is marked resumed (now, or before); restore what it holds.
    Marked {
        /// That period's start (`None`: no notification of the budget yet).
        latest: Option<DateTime<Utc>>,
    },
    /// A delivery is applying a level right now: retry once it is done.
    Busy {
        /// Its delivery.
        by: String,
    },
}

/// The answer to [`Journal::observe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// The period is the budget's latest.
    Current,
    /// A later period has been seen (see [`Claim::Stale`]).
    Stale {
        /// The latest period seen.
        latest: DateTime<Utc>,
    },
}

/// A resource, as the backend that changes it names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource {
    /// The backend's kind, e.g. `cloud-run-service`.
    pub kind: String,
    /// Its full name.
    pub name: String,
}

/// Where a recorded resource stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceState {
    /// Previous settings recorded; the change may or may not have happened.
    Recorded,
    /// Changed by budget-guard: suspended until restored.
    Applied,
    /// Back at its previous settings.
    Restored,
    /// Changed by someone else while suspended: left as found, reported.
    Conflict,
}

/// A resource's row in the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    /// The resource.
    pub resource: Resource,
    /// The period it was changed in.
    pub period_start: DateTime<Utc>,
    /// Its settings before budget-guard first changed it in that period.
    pub previous: Value,
    /// The settings last applied, if any.
    pub applied: Option<Value>,
    /// The level those belong to.
    pub level: Option<Level>,
    /// Where it stands.
    pub state: ResourceState,
    /// When it was first changed: suspended since.
    pub applied_at: Option<DateTime<Utc>>,
}

/// The journal, on the control database.
#[derive(Debug, Clone)]
pub struct Journal {
    pool: PgPool,
}

impl Journal {
    /// A journal on the control database (migrated with [`crate::migrations::MIGRATOR`]).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// The columns [`Journal::claim_level`] reads of a period.
pub(super) type LevelRow = (
    Option<i16>,
    Option<i16>,
    Option<String>,
    bool,
    Option<DateTime<Utc>>,
);

/// Serialises, for the rest of the transaction, every claim, observation and early resume
/// of `budget` (all its periods).
pub(super) async fn lock_budget(
    tx: &mut PgConnection,
    budget: &BudgetKey,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('budget-guard.budget/' || $1 || '/' || $2, 0))")
        .bind(&budget.billing_account)
        .bind(&budget.budget_id)
        .execute(&mut *tx)
        .await
        .map(drop)
}

/// Locks `period`'s budget ([`lock_budget`]), then returns its latest period after
/// `period`, if any.
pub(super) async fn later_period(
    tx: &mut PgConnection,
    period: &BudgetPeriod,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    lock_budget(tx, &period.budget).await?;
    sqlx::query_scalar(
        "SELECT max(period_start) FROM control.budget_levels
         WHERE billing_account = $1 AND budget_id = $2 AND period_start > $3",
    )
    .bind(&period.budget.billing_account)
    .bind(&period.budget.budget_id)
    .bind(period.start)
    .fetch_one(&mut *tx)
    .await
}

/// The level stored as `n` (the table's CHECK keeps it in 1..=3).
pub(crate) fn level_of(n: i16) -> Option<Level> {
    match n {
        1 => Some(Level::Notify),
        2 => Some(Level::Cap),
        3 => Some(Level::Stop),
        _ => None,
    }
}

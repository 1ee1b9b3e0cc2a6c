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

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

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

    /// Claims `level` of `period` for delivery `by`, for at most `lease` unless completed.
    /// Exactly one of any number of concurrent claims of one level wins.
    pub async fn claim_level(
        &self,
        period: &BudgetPeriod,
        level: Level,
        by: &str,
        lease: Duration,
        spend_ratio: f64,
    ) -> Result<Claim, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // From here on, claims and observations of this budget are serialised.
        if let Some(latest) = later_period(&mut tx, period).await? {
            return Ok(Claim::Stale { latest });
        }
        // The first claim of a period creates its row; a later one finds it (locked).
        let created = sqlx::query(
            "INSERT INTO control.budget_levels (billing_account, budget_id, period_start,
                 working_level, working_by, lease_until, spend_ratio)
             VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 second', $7)
             ON CONFLICT DO NOTHING",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .bind(level as i16)
        .bind(by)
        .bind(lease.as_secs_f64())
        .bind(spend_ratio)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if created == 1 {
            tx.commit().await?;
            return Ok(Claim::Won { previous: None });
        }
        let (completed, working, holder, leased): (Option<i16>, Option<i16>, Option<String>, bool) =
            sqlx::query_as(
                "SELECT completed_level, working_level, working_by,
                        coalesce(lease_until > now(), false)
                 FROM control.budget_levels
                 WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3
                 FOR UPDATE",
            )
            .bind(&period.budget.billing_account)
            .bind(&period.budget.budget_id)
            .bind(period.start)
            .fetch_one(&mut *tx)
            .await?;
        let completed = completed.and_then(level_of);
        if let Some(done) = completed.filter(|done| *done >= level) {
            return Ok(Claim::Reached(done));
        }
        // The same delivery, redelivered after a crash, resumes its own lease at once.
        if let (true, Some(working), Some(holder)) = (leased, working.and_then(level_of), holder) {
            if holder != by {
                return Ok(Claim::Busy {
                    level: working,
                    by: holder,
                });
            }
        }
        sqlx::query(
            "UPDATE control.budget_levels
             SET working_level = $4, working_by = $5, lease_until = now() + $6 * interval '1 second',
                 spend_ratio = $7, updated_at = now()
             WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .bind(level as i16)
        .bind(by)
        .bind(lease.as_secs_f64())
        .bind(spend_ratio)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Claim::Won {
            previous: completed,
        })
    }

    /// Records that a notification of `period` arrived (the latest spend ratio, for status),
    /// whatever its level, so a late notification of an earlier period is known as stale even
    /// when nothing in this period reached a level.
    pub async fn observe(
        &self,
        period: &BudgetPeriod,
        spend_ratio: f64,
    ) -> Result<Observed, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if let Some(latest) = later_period(&mut tx, period).await? {
            return Ok(Observed::Stale { latest });
        }
        sqlx::query(
            "INSERT INTO control.budget_levels
                 (billing_account, budget_id, period_start, spend_ratio)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (billing_account, budget_id, period_start)
             DO UPDATE SET spend_ratio = EXCLUDED.spend_ratio, updated_at = now()",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .bind(spend_ratio)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Observed::Current)
    }

    /// Marks `level` complete, if `by` still holds it; `false` when its lease was taken over
    /// (the other delivery completes it).
    pub async fn complete_level(
        &self,
        period: &BudgetPeriod,
        level: Level,
        by: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE control.budget_levels
             SET completed_level = greatest(completed_level, $4), completed_at = now(),
                 working_level = NULL, working_by = NULL, lease_until = NULL, updated_at = now()
             WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3
               AND working_level = $4 AND working_by = $5",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .bind(level as i16)
        .bind(by)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The highest completed level of `period`, if any.
    pub async fn completed_level(
        &self,
        period: &BudgetPeriod,
    ) -> Result<Option<Level>, sqlx::Error> {
        let level: Option<Option<i16>> = sqlx::query_scalar(
            "SELECT completed_level FROM control.budget_levels
             WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .fetch_optional(&self.pool)
        .await?;
        Ok(level.flatten().and_then(level_of))
    }
}

/// The columns a [`ResourceRecord`] is read from.
const RESOURCE_COLUMNS: &str =
    "kind, name, period_start, previous, applied, level, state, applied_at";

type ResourceRow = (
    String,
    String,
    DateTime<Utc>,
    Value,
    Option<Value>,
    Option<i16>,
    String,
    Option<DateTime<Utc>>,
);

fn record_of(row: ResourceRow) -> ResourceRecord {
    let (kind, name, period_start, previous, applied, level, state, applied_at) = row;
    ResourceRecord {
        resource: Resource { kind, name },
        period_start,
        previous,
        applied,
        level: level.and_then(level_of),
        // The table's CHECK allows exactly these four.
        state: match state.as_str() {
            "applied" => ResourceState::Applied,
            "restored" => ResourceState::Restored,
            "conflict" => ResourceState::Conflict,
            _ => ResourceState::Recorded,
        },
        applied_at,
    }
}

impl Journal {
    /// Records `resource`'s settings before it is changed in `period` (whose level must be
    /// claimed). Only the first record is kept, so escalation and redelivery never replace
    /// the original; returns the record as stored.
    pub async fn record_previous(
        &self,
        period: &BudgetPeriod,
        resource: &Resource,
        previous: &Value,
    ) -> Result<ResourceRecord, sqlx::Error> {
        sqlx::query(
            "INSERT INTO control.budget_resources
                 (billing_account, budget_id, period_start, kind, name, previous)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .bind(&resource.kind)
        .bind(&resource.name)
        .bind(previous)
        .execute(&self.pool)
        .await?;
        // A new statement, so a concurrent first record is visible once committed.
        let row: ResourceRow = sqlx::query_as(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM control.budget_resources
             WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3
               AND kind = $4 AND name = $5"
        ))
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .bind(&resource.kind)
        .bind(&resource.name)
        .fetch_one(&self.pool)
        .await?;
        Ok(record_of(row))
    }

    /// Moves a resource of `period` to `state` (with what was applied, or why it conflicts)
    /// if it is in one of `from`; `false` when it was not.
    async fn transition(
        &self,
        period: &BudgetPeriod,
        resource: &Resource,
        from: &[&str],
        to: &str,
        applied: Option<(&Value, Level)>,
        conflict: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE control.budget_resources
             SET state = $7, applied = coalesce($8, applied), level = coalesce($9, level),
                 applied_at = CASE WHEN $8 IS NULL THEN applied_at
                                   ELSE coalesce(applied_at, now()) END,
                 conflict = coalesce($10, conflict), updated_at = now()
             WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3
               AND kind = $4 AND name = $5 AND state = ANY($6)",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .bind(&resource.kind)
        .bind(&resource.name)
        .bind(from)
        .bind(to)
        .bind(applied.map(|(settings, _)| settings))
        .bind(applied.map(|(_, level)| level as i16))
        .bind(conflict)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that `applied` (the settings of `level`) now hold on a recorded resource.
    pub async fn mark_applied(
        &self,
        period: &BudgetPeriod,
        resource: &Resource,
        applied: &Value,
        level: Level,
    ) -> Result<bool, sqlx::Error> {
        let from = ["recorded", "applied"];
        self.transition(
            period,
            resource,
            &from,
            "applied",
            Some((applied, level)),
            None,
        )
        .await
    }

    /// Records that a suspended resource is back at its previous settings.
    pub async fn mark_restored(
        &self,
        period: &BudgetPeriod,
        resource: &Resource,
    ) -> Result<bool, sqlx::Error> {
        self.transition(period, resource, &["applied"], "restored", None, None)
            .await
    }

    /// Records that a suspended resource was changed by someone else, and left as found.
    pub async fn mark_conflict(
        &self,
        period: &BudgetPeriod,
        resource: &Resource,
        reason: &str,
    ) -> Result<bool, sqlx::Error> {
        self.transition(
            period,
            resource,
            &["applied"],
            "conflict",
            None,
            Some(reason),
        )
        .await
    }

    /// What `period` holds suspended (applied, not restored), by kind and name.
    pub async fn suspended(
        &self,
        period: &BudgetPeriod,
    ) -> Result<Vec<ResourceRecord>, sqlx::Error> {
        self.applied(&period.budget, period.start, "=").await
    }

    /// What a budget still holds suspended from periods before `period_start`: what a new
    /// period (or an early `resume`, with a later instant) restores.
    pub async fn to_restore(
        &self,
        budget: &BudgetKey,
        period_start: DateTime<Utc>,
    ) -> Result<Vec<ResourceRecord>, sqlx::Error> {
        self.applied(budget, period_start, "<").await
    }

    /// Applied resources of `budget` whose period compares to `start` by `op` (`=` or `<`).
    async fn applied(
        &self,
        budget: &BudgetKey,
        start: DateTime<Utc>,
        op: &'static str,
    ) -> Result<Vec<ResourceRecord>, sqlx::Error> {
        let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM control.budget_resources
             WHERE billing_account = $1 AND budget_id = $2 AND period_start {op} $3
               AND state = 'applied'
             ORDER BY period_start, kind, name"
        ))
        .bind(&budget.billing_account)
        .bind(&budget.budget_id)
        .bind(start)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(record_of).collect())
    }
}

/// Serialises, for the rest of the transaction, every claim and observation of `period`'s
/// budget (all its periods), then returns its latest period after `period`, if any.
async fn later_period(
    tx: &mut PgConnection,
    period: &BudgetPeriod,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('budget-guard.budget/' || $1 || '/' || $2, 0))")
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .execute(&mut *tx)
        .await?;
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

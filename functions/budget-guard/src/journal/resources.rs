//! Resources changed in a budget period: their settings before, what was applied, and
//! whether they are back.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{level_of, BudgetPeriod, Journal, Resource, ResourceRecord, ResourceState};
use crate::config::BudgetKey;
use crate::decide::Level;

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

    /// Everything a budget holds suspended, up to and including the period starting at
    /// `latest`: what an early resume restores.
    pub async fn suspended_up_to(
        &self,
        budget: &BudgetKey,
        latest: DateTime<Utc>,
    ) -> Result<Vec<ResourceRecord>, sqlx::Error> {
        self.applied(budget, latest, "<=").await
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

    /// Applied resources of `budget` whose period compares to `start` by `op` (`=`, `<` or `<=`).
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

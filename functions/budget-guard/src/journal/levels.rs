//! Levels of a budget period: claimed with a lease, completed, observed, resumed early.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{
    later_period, level_of, lock_budget, BudgetPeriod, Claim, EarlyResume, Journal, LevelRow,
    Observed,
};
use crate::config::BudgetKey;
use crate::decide::Level;

impl Journal {
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
        let (completed, working, holder, leased, resumed): LevelRow = sqlx::query_as(
            "SELECT completed_level, working_level, working_by,
                        coalesce(lease_until > now(), false), resumed_at
                 FROM control.budget_levels
                 WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3
                 FOR UPDATE",
        )
        .bind(&period.budget.billing_account)
        .bind(&period.budget.budget_id)
        .bind(period.start)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(at) = resumed {
            return Ok(Claim::Resumed { at });
        }
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

    /// Marks the budget's latest period resumed by a person, so no later notification of it
    /// applies anything, unless a delivery is applying a level right now.
    pub async fn resume_early(&self, budget: &BudgetKey) -> Result<EarlyResume, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        lock_budget(&mut tx, budget).await?;
        let latest: Option<(DateTime<Utc>, Option<String>)> = sqlx::query_as(
            "SELECT period_start, CASE WHEN lease_until > now() THEN working_by END
             FROM control.budget_levels
             WHERE billing_account = $1 AND budget_id = $2
             ORDER BY period_start DESC LIMIT 1",
        )
        .bind(&budget.billing_account)
        .bind(&budget.budget_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((start, holder)) = latest else {
            return Ok(EarlyResume::Marked { latest: None });
        };
        if let Some(by) = holder {
            return Ok(EarlyResume::Busy { by });
        }
        sqlx::query(
            "UPDATE control.budget_levels SET resumed_at = coalesce(resumed_at, now()),
                 updated_at = now()
             WHERE billing_account = $1 AND budget_id = $2 AND period_start = $3",
        )
        .bind(&budget.billing_account)
        .bind(&budget.budget_id)
        .bind(start)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(EarlyResume::Marked {
            latest: Some(start),
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

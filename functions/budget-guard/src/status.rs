//! What `groundskeeper budget status` prints: every budget's latest period, how far it went,
//! and what it holds suspended since when.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::config::BudgetKey;
use crate::decide::Level;
use crate::journal::{level_of, Journal, ResourceRecord};

/// One budget's latest period.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetStatus {
    /// The budget.
    pub budget: BudgetKey,
    /// `costIntervalStart` of its latest notification.
    pub period_start: DateTime<Utc>,
    /// The spend ratio of its latest notification.
    pub spend_ratio: Option<f64>,
    /// The highest level completed in the period.
    pub level: Option<Level>,
    /// A level being applied right now.
    pub applying: Option<Level>,
    /// When a person resumed it early, if they did.
    pub resumed_at: Option<DateTime<Utc>>,
    /// What the budget holds suspended (this period and earlier ones not yet restored).
    pub suspended: Vec<ResourceRecord>,
}

type Row = (
    String,
    String,
    DateTime<Utc>,
    Option<f64>,
    Option<i16>,
    Option<i16>,
    Option<DateTime<Utc>>,
);

/// Every budget's latest period, by budget.
pub async fn status(pool: &PgPool) -> Result<Vec<BudgetStatus>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT DISTINCT ON (billing_account, budget_id)
                billing_account, budget_id, period_start, spend_ratio, completed_level,
                CASE WHEN lease_until > now() THEN working_level END, resumed_at
         FROM control.budget_levels
         ORDER BY billing_account, budget_id, period_start DESC",
    )
    .fetch_all(pool)
    .await?;
    let journal = Journal::new(pool.clone());
    let mut out = Vec::with_capacity(rows.len());
    for (billing_account, budget_id, period_start, spend_ratio, level, applying, resumed_at) in rows
    {
        let budget = BudgetKey {
            billing_account,
            budget_id,
        };
        let suspended = journal.suspended_up_to(&budget, period_start).await?;
        out.push(BudgetStatus {
            budget,
            period_start,
            spend_ratio,
            level: level.and_then(level_of),
            applying: applying.and_then(level_of),
            resumed_at,
            suspended,
        });
    }
    Ok(out)
}

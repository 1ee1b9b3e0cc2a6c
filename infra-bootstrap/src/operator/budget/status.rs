//! `budget status`: budget-guard's status rows, as a table for people or JSON for machines.

use std::fmt::Write as _;

use anyhow::Context as _;
use budget_guard::status::{status, BudgetStatus};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// One budget's latest period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusRow {
    /// `ACCOUNT/ID`.
    pub budget: String,
    /// `costIntervalStart` of its latest notification.
    pub period_start: DateTime<Utc>,
    /// Cost divided by budget in the latest notification (`0.85`).
    pub spend_ratio: Option<f64>,
    /// The highest level completed in the period: `notify`, `cap` or `stop`.
    pub level: Option<&'static str>,
    /// A level being applied right now.
    pub applying: Option<&'static str>,
    /// When a person resumed it early.
    pub resumed_at: Option<DateTime<Utc>>,
    /// What it holds suspended.
    pub suspended: Vec<SuspendedRow>,
}

/// One suspended resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspendedRow {
    /// e.g. `database`, `cloud-run-service`.
    pub kind: String,
    /// Its full name.
    pub name: String,
    /// When budget-guard changed it (`None`: recorded, the change not confirmed yet).
    pub since: Option<DateTime<Utc>>,
}

impl From<BudgetStatus> for StatusRow {
    fn from(s: BudgetStatus) -> Self {
        Self {
            budget: s.budget.to_string(),
            period_start: s.period_start,
            spend_ratio: s.spend_ratio,
            level: s.level.map(|l| l.as_str()),
            applying: s.applying.map(|l| l.as_str()),
            resumed_at: s.resumed_at,
            suspended: s
                .suspended
                .into_iter()
                .map(|r| SuspendedRow {
                    kind: r.resource.kind,
                    name: r.resource.name,
                    since: r.applied_at,
                })
                .collect(),
        }
    }
}

/// The status of every budget budget-guard has seen, from the control database.
pub async fn status_rows(pool: &PgPool) -> anyhow::Result<Vec<StatusRow>> {
    let rows = status(pool).await.context(
        "reading budget-guard's journal (is DATABASE_URL the control database, and has \
         `budget-guard migrate` run on it, by a deploy or `local up`?)",
    )?;
    Ok(rows.into_iter().map(StatusRow::from).collect())
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".to_owned(), |t| {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    })
}

/// One line per budget, then one indented line per suspended resource.
pub fn status_table(rows: &[StatusRow]) -> String {
    let mut out = format!(
        "{:<40} {:<20} {:>7} {:<6} {:<8} {}\n",
        "BUDGET", "PERIOD", "SPEND", "LEVEL", "APPLYING", "RESUMED"
    );
    for r in rows {
        let spend = r
            .spend_ratio
            .map_or("-".to_owned(), |s| format!("{:.1}%", s * 100.0));
        let _ = writeln!(
            out,
            "{:<40} {:<20} {spend:>7} {:<6} {:<8} {}",
            r.budget,
            time(Some(r.period_start)),
            r.level.unwrap_or("-"),
            r.applying.unwrap_or("-"),
            time(r.resumed_at),
        );
        for s in &r.suspended {
            let since = s.since.map_or("(change pending)".to_owned(), |t| {
                format!("since {}", time(Some(t)))
            });
            let _ = writeln!(out, "  suspended {} {} {since}", s.kind, s.name);
        }
    }
    if rows.is_empty() {
        out.push_str("(no budget notification seen yet)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn the_table_shows_the_spend_as_percent_and_each_suspended_resource_with_its_time() {
        let rows = [StatusRow {
            budget: "000000-000000-000000/local-dev".into(),
            period_start: at("2026-11-01T00:00:00Z"),
            spend_ratio: Some(0.854),
            level: Some("cap"),
            applying: Some("stop"),
            resumed_at: None,
            suspended: vec![
                SuspendedRow {
                    kind: "database".into(),
                    name: "env_shop".into(),
                    since: Some(at("2026-11-20T10:00:00Z")),
                },
                SuspendedRow {
                    kind: "cloud-run-service".into(),
                    name: "projects/p/locations/r/services/env-shop".into(),
                    since: None,
                },
            ],
        }];
        let table = status_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        let words: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            words,
            [
                "000000-000000-000000/local-dev",
                "2026-11-01T00:00:00Z",
                "85.4%",
                "cap",
                "stop",
                "-"
            ]
        );
        assert_eq!(
            lines[2],
            "  suspended database env_shop since 2026-11-20T10:00:00Z"
        );
        assert!(lines[3].ends_with("env-shop (change pending)"), "{table}");
    }
}

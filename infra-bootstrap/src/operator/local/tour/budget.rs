//! The tour's budget step: Cloud Billing's notification (published as Cloud Billing does:
//! no CloudEvents attributes, the budget in `billingAccountId` / `budgetId`) at 85 % of the
//! local dev budget → budget-guard suspends the dev environments' databases, and a new
//! login is refused (SQLSTATE 53300); the next period's notification → they are restored,
//! and a login succeeds again.

use chrono::{DateTime, Datelike as _, Months, Utc};
use events::downscale::{DownscaleApplied, DownscaleResumed};
use events::environment::EnvironmentReady;
use events::Message;
use events::TypedEvent;
use serde_json::json;
use shared::backends::publisher::Publisher as _;
use sqlx::Connection as _;

use super::connect::login;
use super::steps::{field, secret_id, ty, Tour, WAIT};
use super::watch::Pulled;

/// The local stack's one budget (budget-guard's `BUDGETS` in the registry's local settings).
pub const BILLING_ACCOUNT: &str = "000000-000000-000000";
/// Its id; it covers the `dev` tier.
pub const BUDGET_ID: &str = "local-dev";
/// Cloud Billing's topic.
const BUDGET_ALERTS: &str = "budget-alerts";
/// PostgreSQL's `too_many_connections`: the database's connection limit is 0.
const TOO_MANY_CONNECTIONS: &str = "53300";
/// The budget's amount in the notifications.
pub const AMOUNT: f64 = 100.0;

/// A budget notification as Cloud Billing publishes it (`schemaVersion` 1.0), `cost` spent
/// of [`AMOUNT`].
pub fn notification(period: DateTime<Utc>, cost: f64) -> Message {
    let data = json!({
        "budgetDisplayName": "groundskeeper dev (local)",
        "costAmount": cost,
        "costIntervalStart": period.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "budgetAmount": AMOUNT,
        "budgetAmountType": "SPECIFIED_AMOUNT",
        "currencyCode": "EUR",
    });
    let attributes = [
        ("billingAccountId", BILLING_ACCOUNT),
        ("budgetId", BUDGET_ID),
        ("schemaVersion", "1.0"),
    ];
    Message {
        data: data.to_string().into_bytes(),
        attributes: attributes
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ordering_key: None,
    }
}

/// A period the budget has not seen yet: this month's start in Cloud Billing's time
/// (Pacific midnight, 08:00 UTC), or the month after the latest one the journal holds, so
/// the tour can run again on the same stack.
pub fn next_period(now: DateTime<Utc>, latest: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let this_month = now
        .date_naive()
        .with_day0(0)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .map_or(now, |t| t.and_utc());
    match latest {
        Some(latest) if latest >= this_month => latest + Months::new(1),
        _ => this_month,
    }
}

fn about_budget(m: &Pulled, ty_wanted: &str, period: DateTime<Utc>) -> bool {
    let at = |s: String| s.parse::<DateTime<Utc>>().ok();
    ty(m) == ty_wanted
        && field(m, "billing_account") == BILLING_ACCOUNT
        && field(m, "budget_id") == BUDGET_ID
        && at(field(m, "cost_interval_start")) == Some(period)
}

impl Tour {
    /// Spend crosses the cap level: the environment's database refuses new logins; a new
    /// period: it accepts them again.
    pub async fn budget(&self, ready: &EnvironmentReady) -> anyhow::Result<()> {
        let latest = budget_guard::status::status(&self.control)
            .await?
            .into_iter()
            .filter(|s| s.budget.billing_account == BILLING_ACCOUNT)
            .find(|s| s.budget.budget_id == BUDGET_ID)
            .map(|s| s.period_start);
        let period = next_period(Utc::now(), latest);
        let id = self
            .publisher
            .publish(BUDGET_ALERTS, notification(period, 85.0))
            .await?;
        self.at.say(
            "→",
            format!(
                "Cloud Billing's notification for budget {BILLING_ACCOUNT}/{BUDGET_ID} (dev \
                 tier): 85 % spent in the period from {period}  (message {id})"
            ),
        );
        let event = self
            .events
            .next(WAIT, |m| about_budget(m, DownscaleApplied::TYPE, period))
            .await?;
        let applied: DownscaleApplied = serde_json::from_slice(&event.data)?;
        let names: Vec<&str> = applied.targets.iter().map(|t| t.name.as_str()).collect();
        self.at.say(
            "←",
            format!(
                "downscale.applied: level {}, suspended {}",
                applied.level,
                names.join(", ")
            ),
        );
        self.refused(ready).await?;

        let next = period + Months::new(1);
        let id = self
            .publisher
            .publish(BUDGET_ALERTS, notification(next, 1.0))
            .await?;
        self.at.say(
            "→",
            format!("the next period's notification: 1 % spent from {next}  (message {id})"),
        );
        let event = self
            .events
            .next(WAIT, |m| about_budget(m, DownscaleResumed::TYPE, period))
            .await?;
        let resumed: DownscaleResumed = serde_json::from_slice(&event.data)?;
        self.at.say(
            "←",
            format!(
                "downscale.resumed ({}): {} resource(s) back as they were",
                resumed.reason,
                resumed.targets.len()
            ),
        );
        let conn = login(self.secrets.as_ref(), secret_id(ready)).await?;
        conn.close().await?;
        self.at.say(
            "✓",
            "a new login to the environment's database succeeds again",
        );
        Ok(())
    }

    /// Checks that a new login is refused with `too_many_connections`.
    async fn refused(&self, ready: &EnvironmentReady) -> anyhow::Result<()> {
        let refusal = match login(self.secrets.as_ref(), secret_id(ready)).await {
            Ok(_) => anyhow::bail!("the suspended database still accepted a login"),
            Err(e) => e,
        };
        let code = refusal
            .downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .and_then(|e| e.code().map(|c| c.into_owned()));
        anyhow::ensure!(
            code.as_deref() == Some(TOO_MANY_CONNECTIONS),
            "the login failed otherwise than refused by the connection limit: {refusal}"
        );
        self.at.say(
            "✓",
            format!(
                "a new login to {} is refused: SQLSTATE {TOO_MANY_CONNECTIONS} \
                 too_many_connections (connection limit 0)",
                ready.database.as_str()
            ),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn the_period_is_this_month_s_unless_the_journal_already_has_it_or_a_later_one() {
        let now = at("2026-11-27T18:00:00Z");
        let this = at("2026-11-01T08:00:00Z");
        assert_eq!(next_period(now, None), this);
        assert_eq!(next_period(now, Some(at("2026-10-01T07:00:00Z"))), this);
        assert_eq!(next_period(now, Some(this)), at("2026-12-01T08:00:00Z"));
        let later = at("2027-01-01T08:00:00Z");
        assert_eq!(next_period(now, Some(later)), at("2027-02-01T08:00:00Z"));
    }

    #[test]
    fn the_notification_is_cloud_billing_s_shape_without_cloudevents_attributes() {
        let m = notification(at("2026-11-01T08:00:00Z"), 85.0);
        assert!(m.attributes.keys().all(|k| !k.starts_with("ce-")));
        // Decoded as budget-guard decodes what Cloud Billing sends.
        let mut raw = events::RawEvent::bare(events::types::BUDGET_NOTIFICATION, m.data);
        raw.attributes = m.attributes;
        let n = events::budget::BudgetNotification::from_raw(&raw).expect("decodes");
        assert_eq!(
            (n.billing_account_id.as_str(), n.budget_id.as_str()),
            (BILLING_ACCOUNT, BUDGET_ID)
        );
        assert_eq!(n.schema_version.as_deref(), Some("1.0"));
        assert_eq!(n.data.cost_interval_start, at("2026-11-01T08:00:00Z"));
        assert_eq!(n.spend_ratio(), Some(0.85));
    }
}

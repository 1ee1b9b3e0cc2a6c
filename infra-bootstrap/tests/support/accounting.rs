//! After a fault scenario: every event sent is done (its outcome event seen) or dead-lettered
//! with a reason, or lost; and the state behind them is whole — no duplicate side effect, no
//! environment whose `current` credentials fail to log in, no half-made environment.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::collections::{BTreeMap, BTreeSet};

use events::types;
use infra_bootstrap::operator::env::connection_url;
use infra_bootstrap::operator::local::WATCH_SUBSCRIPTION;
use secrecy::ExposeSecret as _;
use shared::backends::secrets::{LocalSecretStore, SecretStore};
use sqlx::{Connection as _, PgConnection, PgPool};

use super::outcomes::Pulled;

/// One event the scenario published, and what its outcome looks like.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `environment.requested`, …, or `budget` for a Cloud Billing notification.
    pub ty: &'static str,
    /// The environment (or the budget period, for a notification).
    pub subject: String,
}

impl Sent {
    /// The outcome types that mean done, and the payload field naming the subject.
    fn outcome(&self) -> (&'static [&'static str], &'static str) {
        match self.ty {
            types::ENVIRONMENT_REQUESTED => (&[types::ENVIRONMENT_READY], "name"),
            types::ENVIRONMENT_TEARDOWN_REQUESTED => (&[types::ENVIRONMENT_DELETED], "name"),
            types::ROTATION_REQUESTED => (&[types::SECRET_ROTATED], "secret"),
            types::BACKUP_REQUESTED => (&[types::BACKUP_COMPLETED], "environment"),
            // A new period's first notification above the notify level: its threshold event
            // (and `downscale.applied` when it crosses the cap with something to cap).
            _ => (&[types::BUDGET_THRESHOLD], "cost_interval_start"),
        }
    }

    /// The value of that field in the outcome.
    fn key(&self) -> String {
        match self.ty {
            types::ROTATION_REQUESTED => secret_of(&self.subject),
            _ => self.subject.clone(),
        }
    }

    fn is_outcome(&self, m: &Pulled) -> bool {
        let (wanted, field) = self.outcome();
        m.subscription == WATCH_SUBSCRIPTION && wanted.contains(&m.ty()) && {
            let value = m.field(field);
            // Periods come back in whichever RFC 3339 spelling the service chose.
            value == self.key() || same_time(&value, &self.key())
        }
    }

    fn is_dead_letter(&self, m: &Pulled) -> bool {
        if !m.subscription.ends_with("-dead-letter-sub") {
            return false;
        }
        let quoted = format!("\"{}\"", self.subject);
        match self.ty {
            "budget" => m.attributes.contains_key("budgetId") && m.text().contains(&self.subject),
            ty => m.ty() == ty && m.text().contains(&quoted),
        }
    }
}

fn same_time(a: &str, b: &str) -> bool {
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().ok();
    at(a).is_some() && at(a) == at(b)
}

/// An environment's credentials secret (ephemeral tier, the CLI's default).
pub fn secret_of(env: &str) -> String {
    format!("ephemeral-{env}-db-credentials")
}

/// A row of the table in RELIABILITY.md.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub scenario: String,
    pub sent: usize,
    pub done: usize,
    /// `reason → count`.
    pub dead_lettered: BTreeMap<String, usize>,
    pub lost: Vec<String>,
    pub duplicates: Vec<String>,
    pub secrets_lost: Vec<String>,
    pub half_made: Vec<String>,
}

impl Row {
    /// Whether nothing was lost, duplicated or broken.
    pub fn clean(&self) -> bool {
        self.lost.is_empty()
            && self.duplicates.is_empty()
            && self.secrets_lost.is_empty()
            && self.half_made.is_empty()
    }

    /// The table line.
    pub fn render(&self) -> String {
        let dead: usize = self.dead_lettered.values().sum();
        let reasons: Vec<String> = self
            .dead_lettered
            .iter()
            .map(|(why, n)| format!("{n} × {why}"))
            .collect();
        let dead = if reasons.is_empty() {
            "0".to_owned()
        } else {
            format!("{dead} ({})", reasons.join("; "))
        };
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            self.scenario,
            self.sent,
            self.done,
            dead,
            self.lost.len(),
            self.duplicates.len(),
            self.secrets_lost.len(),
            self.half_made.len()
        )
    }
}

/// The header of the table.
pub const HEADER: &str = "| scenario | events sent | done | dead-lettered (reason) | lost | \
     duplicate side effects | secrets lost | half-made environments |\n\
     |---|---:|---:|---|---:|---:|---:|---:|";

/// Sorts every sent event into done, dead-lettered or lost, and counts outcome events that
/// report a second, different effect (another event id for the same outcome and subject).
pub fn account(scenario: &str, sent: &[Sent], seen: &[Pulled]) -> Row {
    let mut row = Row {
        scenario: scenario.to_owned(),
        sent: sent.len(),
        ..Row::default()
    };
    for event in sent {
        if seen.iter().any(|m| event.is_outcome(m)) {
            row.done += 1;
        } else if let Some(dead) = seen.iter().find(|m| event.is_dead_letter(m)) {
            let reason = match dead.attributes.get("error-type") {
                Some(kind) => kind.clone(),
                // Forwarded by Pub/Sub itself: the subscription's attempts ran out.
                None => "attempts exhausted (no reason: Pub/Sub's own forward)".to_owned(),
            };
            *row.dead_lettered.entry(reason).or_default() += 1;
        } else {
            row.lost.push(format!("{} {}", event.ty, event.subject));
        }
        let effects: BTreeSet<String> = seen
            .iter()
            .filter(|m| event.is_outcome(m))
            .map(|m| effect_id(event, m))
            .collect();
        if effects.len() > 1 {
            row.duplicates
                .push(format!("{} {}: {effects:?}", event.ty, event.subject));
        }
    }
    row
}

/// What identifies one effect: the backup's id, the rotation's new version, else the
/// outcome event's own id (redelivery re-publishes with the same id).
fn effect_id(event: &Sent, m: &Pulled) -> String {
    match event.ty {
        types::BACKUP_REQUESTED => m.field("backup_id"),
        _ => m.attributes.get("ce-id").cloned().unwrap_or_default(),
    }
}

/// The state behind the environments `names`: each either ready with its database, roles and
/// secret — whose `current` credentials log in, with exactly `versions[name]` versions — or
/// gone (no row, or `deleted`) with none of them.
pub async fn check_environments(
    control: &PgPool,
    admin: &PgPool,
    names: &[String],
    versions: &BTreeMap<String, usize>,
    row: &mut Row,
) {
    let secrets = LocalSecretStore::new(control.clone());
    for name in names {
        let env: events::names::EnvName = name.parse().unwrap();
        let status = env_provisioner::inventory::get(control, &env)
            .await
            .unwrap()
            .map(|e| e.status);
        let ident = format!("env_{}", name.replace('-', "_"));
        let (databases, roles): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM pg_database WHERE datname = $1), \
                    (SELECT count(*) FROM pg_roles WHERE rolname ~ ('^' || $1 || '(_[a-z]+)?$'))",
        )
        .bind(&ident)
        .fetch_one(admin)
        .await
        .unwrap();
        let secret = secrets.get_secret(&secret_of(name)).await.unwrap();
        let ready = status.as_deref() == Some("ready");
        let gone = matches!(status.as_deref(), None | Some("deleted"));
        let all = databases == 1 && roles >= 1 && secret.is_some();
        let none = databases == 0 && roles == 0 && secret.is_none();
        if !(ready && all || gone && none) {
            row.half_made.push(format!(
                "{name}: status {status:?}, {databases} database, {roles} roles, secret {}",
                secret.is_some()
            ));
            continue;
        }
        let Some(secret) = secret else { continue };
        let expected = versions.get(name).copied().unwrap_or(1);
        if secret.versions.len() != expected {
            row.duplicates.push(format!(
                "{name}: {} secret versions, {expected} expected",
                secret.versions.len()
            ));
        }
        match connect(&secrets, name).await {
            Ok(conn) => conn.close().await.unwrap(),
            Err(e) => row.secrets_lost.push(format!("{name}: {e}")),
        }
    }
}

/// A connection to environment `name`'s database with its `current` credentials.
pub async fn connect(secrets: &LocalSecretStore, name: &str) -> anyhow::Result<PgConnection> {
    let json = secrets.access(&secret_of(name), "current").await?;
    let url = connection_url(&json)?;
    let mut conn = PgConnection::connect(url.expose_secret()).await?;
    sqlx::query("SELECT 1").execute(&mut conn).await?;
    Ok(conn)
}

/// Writes `rows` between the markers of RELIABILITY.md's fault table when
/// `UPDATE_RELIABILITY=1`, else nothing (the rows vary with timing: the table is a record of
/// a run, not a golden file).
pub fn render(rows: &[Row], variant: &str) {
    #[allow(clippy::disallowed_methods)] // test harness switch, not service configuration
    if std::env::var("UPDATE_RELIABILITY").as_deref() != Ok("1") {
        return;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../RELIABILITY.md");
    let text = std::fs::read_to_string(path).unwrap();
    let (start, end) = (
        format!("<!-- faults-{variant}:start -->\n"),
        format!("<!-- faults-{variant}:end -->"),
    );
    let (Some(a), Some(b)) = (text.find(&start), text.find(&end)) else {
        panic!("RELIABILITY.md has no {start:?} … {end:?} markers");
    };
    let table: Vec<String> = rows.iter().map(Row::render).collect();
    let body = format!("{HEADER}\n{}\n", table.join("\n"));
    let updated = format!("{}{start}{body}{}", &text[..a], &text[b..]);
    std::fs::write(path, updated).unwrap();
}

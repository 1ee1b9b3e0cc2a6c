//! What the provisioner's state says, read-only, for others: the operator CLI lists
//! environments, waits on their status and finds their credentials secret through this API
//! instead of reading `control.environments` / `control.environment_requests` with SQL of
//! its own (the tables stay this crate's to change).

use chrono::{DateTime, Utc};
use events::names::{EnvName, SecretId};
use events::Tier;
use sqlx::PgPool;

/// One environment as the provisioner recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Its name (as stored: a row predates any later tightening of the name rules).
    pub name: String,
    /// Its tier.
    pub tier: Tier,
    /// Who asked for it.
    pub owner: String,
    /// `provisioning`, `ready`, `failed`, `deleting` or `deleted`.
    pub status: String,
    /// Where and why provisioning stopped, when `status` is `failed`.
    pub failure: Option<Failure>,
    /// When the TTL sweep removes it.
    pub expires_at: Option<DateTime<Utc>>,
    /// The last change of the row.
    pub updated_at: DateTime<Utc>,
    /// The request's `from_backup` when it started from a backup (the restore was asked for).
    pub restored_from: Option<String>,
}

/// Where provisioning failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The step (`?` when none was recorded).
    pub step: String,
    /// Why (`no reason recorded` when none was).
    pub reason: String,
}

impl Environment {
    /// Whether it is `ready`.
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }

    /// Whether it is `deleted` (the row is kept as the record of what existed).
    pub fn is_deleted(&self) -> bool {
        self.status == "deleted"
    }

    /// The credentials secret the provisioner wrote for it, or `None` when the stored name
    /// is not a valid environment name any more.
    pub fn credentials_secret(&self) -> Option<SecretId> {
        let name: EnvName = self.name.parse().ok()?;
        Some(name.secret_id(self.tier))
    }
}

/// The provisioner's decision on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Taken up: follow the environment's row.
    Accepted,
    /// Refused before anything was created, with the reason.
    Refused(String),
}

/// Every environment, deleted ones included, by name.
pub async fn list(pool: &PgPool) -> Result<Vec<Environment>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY name"))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(Row::into_environment).collect()
}

/// The environment `name`, if there ever was one.
pub async fn get(pool: &PgPool, name: &EnvName) -> Result<Option<Environment>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE name = $1"))
        .bind(name.as_str())
        .fetch_optional(pool)
        .await?;
    row.map(Row::into_environment).transpose()
}

/// The decision on request `request_id` (the request's CloudEvents id) for `name`; `None`
/// while the provisioner has not taken it up.
pub async fn decision(
    pool: &PgPool,
    name: &EnvName,
    request_id: &str,
) -> Result<Option<Decision>, sqlx::Error> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT decision, reason FROM control.environment_requests \
         WHERE request_id = $1 AND name = $2",
    )
    .bind(request_id)
    .bind(name.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(decision, reason)| match decision.as_str() {
        "accepted" => Decision::Accepted,
        _ => Decision::Refused(reason.unwrap_or_default()),
    }))
}

/// The newest refusal of a request for `name`: its reason and when it was decided.
pub async fn latest_refusal(
    pool: &PgPool,
    name: &EnvName,
) -> Result<Option<(String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT reason, decided_at FROM control.environment_requests \
         WHERE name = $1 AND decision = 'refused' ORDER BY decided_at DESC LIMIT 1",
    )
    .bind(name.as_str())
    .fetch_optional(pool)
    .await
}

const SELECT: &str = "SELECT name, tier, owner, status, failure, expires_at, updated_at, \
     outputs->>'restored_from' AS restored_from FROM control.environments";

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    tier: String,
    owner: String,
    status: String,
    failure: Option<serde_json::Value>,
    expires_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    restored_from: Option<String>,
}

impl Row {
    fn into_environment(self) -> Result<Environment, sqlx::Error> {
        let tier = self
            .tier
            .parse()
            .map_err(|e: String| sqlx::Error::Decode(e.into()))?;
        let failure = self.failure.map(|f| {
            let text = |key: &str, default: &str| f[key].as_str().unwrap_or(default).to_owned();
            Failure {
                step: text("step", "?"),
                reason: text("reason", "no reason recorded"),
            }
        });
        Ok(Environment {
            name: self.name,
            tier,
            owner: self.owner,
            status: self.status,
            failure,
            expires_at: self.expires_at,
            updated_at: self.updated_at,
            restored_from: self.restored_from,
        })
    }
}

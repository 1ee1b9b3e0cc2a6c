//! The environment's row in `control.environments` and the per-name lock.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use events::{names::EnvName, Tier};
use serde_json::json;
use shared::lock::KeyLock;
use sqlx::{PgPool, Row};

use crate::tombstones;

/// One environment as recorded.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its name.
    pub name: EnvName,
    /// `provisioning`, `ready`, `failed`, `deleting` or `deleted`.
    pub status: String,
    /// The request's hash.
    pub spec_hash: String,
    /// Who asked.
    pub owner: String,
    /// The tier.
    pub tier: Tier,
    /// Every label applied.
    pub labels: BTreeMap<String, String>,
    /// Step → `creating` / `created` / `skipped`.
    pub resources: BTreeMap<String, String>,
    /// Client-facing results (service URL or why it was skipped).
    pub outputs: BTreeMap<String, String>,
    /// When the TTL sweep removes it.
    pub expires_at: Option<DateTime<Utc>>,
    /// The request that (last) claimed the name.
    pub request_id: String,
}

const COLUMNS: &str = "name, status, spec_hash, owner, tier, labels, resources, outputs, \
     expires_at, request_id";

fn record(row: &sqlx::postgres::PgRow) -> Result<Record, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    let json = |col: &str| -> Result<BTreeMap<String, String>, sqlx::Error> {
        serde_json::from_value(row.try_get(col)?).map_err(|e| decode(e.to_string()))
    };
    Ok(Record {
        name: row
            .try_get::<String, _>("name")?
            .parse()
            .map_err(|e: events::names::NameError| decode(e.to_string()))?,
        status: row.try_get("status")?,
        spec_hash: row.try_get("spec_hash")?,
        owner: row.try_get("owner")?,
        tier: row.try_get::<String, _>("tier")?.parse().map_err(decode)?,
        labels: json("labels")?,
        resources: json("resources")?,
        outputs: json("outputs")?,
        expires_at: row.try_get("expires_at")?,
        request_id: row.try_get("request_id")?,
    })
}

/// The environment's row, if any; `for_update` locks it within `tx`.
pub async fn load<'c, E>(
    db: E,
    name: &EnvName,
    for_update: bool,
) -> Result<Option<Record>, sqlx::Error>
where
    E: sqlx::PgExecutor<'c>,
{
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM control.environments WHERE name = $1{lock}");
    let row = sqlx::query(&sql)
        .bind(name.as_str())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(record).transpose()
}

/// Records a step's state (`creating` before its side effect, `created` / `skipped` after).
pub async fn mark_step(
    pool: &PgPool,
    name: &EnvName,
    step: &str,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE control.environments SET resources = resources || jsonb_build_object($2::text, $3::text), \
         updated_at = now() WHERE name = $1",
    )
    .bind(name.as_str())
    .bind(step)
    .bind(state)
    .execute(pool)
    .await
    .map(drop)
}

/// Records a client-facing output (e.g. the service URL).
pub async fn set_output(
    pool: &PgPool,
    name: &EnvName,
    key: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE control.environments SET outputs = outputs || jsonb_build_object($2::text, $3::text) WHERE name = $1")
        .bind(name.as_str())
        .bind(key)
        .bind(value)
        .execute(pool)
        .await
        .map(drop)
}

/// Moves the environment to `status`; `deleted` and `failed` also forget its resources
/// (they are gone), `failed` keeps the reason.
pub async fn set_status(
    pool: &PgPool,
    name: &EnvName,
    status: &str,
    failure: Option<(&str, &str)>,
) -> Result<(), sqlx::Error> {
    let failure = failure.map(|(step, reason)| json!({ "step": step, "reason": reason }));
    sqlx::query(
        "UPDATE control.environments SET status = $2, failure = $3, updated_at = now(), \
         resources = CASE WHEN $2 IN ('deleted', 'failed') THEN '{}'::jsonb ELSE resources END, \
         deleted_at = CASE WHEN $2 = 'deleted' THEN now() ELSE deleted_at END \
         WHERE name = $1",
    )
    .bind(name.as_str())
    .bind(status)
    .bind(failure)
    .execute(pool)
    .await
    .map(drop)
}

/// Forgets a step once its resource is removed, so a resumed teardown starts after it and a
/// failed one shows what is left.
pub async fn forget_step(pool: &PgPool, name: &EnvName, step: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE control.environments SET resources = resources - $2::text, updated_at = now() \
         WHERE name = $1",
    )
    .bind(name.as_str())
    .bind(step)
    .execute(pool)
    .await
    .map(drop)
}

/// Marks the environment deleted (its resources are gone) and, in the same transaction,
/// records teardown `event_id` (published at `at`) as the tombstone of the request it tore
/// down, so a crash between the two cannot forget which request that was.
pub async fn mark_deleted(
    pool: &PgPool,
    record: &Record,
    at: Option<DateTime<Utc>>,
    event_id: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE control.environments SET status = 'deleted', failure = NULL, resources = '{}'::jsonb, \
         updated_at = now(), deleted_at = now() WHERE name = $1",
    )
    .bind(record.name.as_str())
    .execute(&mut *tx)
    .await?;
    let torn_down = Some(record.request_id.as_str());
    tombstones::record(&mut tx, &record.name, at, torn_down, event_id).await?;
    tx.commit().await
}

/// Names of environments the sweep must remove: live ones whose TTL has passed, and every
/// teardown left halfway (`deleting`, whatever its TTL), which is resumed to completion.
pub async fn expired(pool: &PgPool) -> Result<Vec<EnvName>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM control.environments WHERE status = 'deleting' \
         OR (status IN ('ready', 'failed', 'provisioning') AND expires_at <= now()) \
         ORDER BY expires_at NULLS FIRST",
    )
    .fetch_all(pool)
    .await?;
    Ok(names.into_iter().filter_map(|n| n.parse().ok()).collect())
}

/// One delivery at a time works on an environment, whatever its event id.
pub async fn lock_environment(
    pool: &PgPool,
    name: &EnvName,
) -> Result<Option<KeyLock>, sqlx::Error> {
    KeyLock::try_acquire(pool, format!("groundskeeper.environment:{name}")).await
}

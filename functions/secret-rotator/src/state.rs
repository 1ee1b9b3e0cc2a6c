//! A secret's rotation record in `control.rotations`.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgPool, Row};

use crate::rotation_steps::RotationStep;

/// One rotation as recorded. Versions are `u64` like the secret store's.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The delivery that started it.
    pub rotation_id: String,
    /// `alternating` or `single_user`.
    pub mode: String,
    /// `check`, `create`, `set`, `test`, `finish` (in flight), `done` or `failed`.
    pub step: String,
    /// The version aliased `current` when it started.
    pub base_version: Option<u64>,
    /// The version it added.
    pub pending_version: Option<u64>,
    /// The SHA-256 (hex) of the password `create` was about to add, recorded before the add.
    pub pending_digest: Option<String>,
    /// The role the new password goes on.
    pub target_role: Option<String>,
    /// When `current` was promoted (by the last rotation that finished).
    pub current_since: Option<DateTime<Utc>>,
    /// When `previous` was promoted.
    pub previous_since: Option<DateTime<Utc>>,
}

impl Rotation {
    /// Whether a rotation is in flight.
    pub fn in_flight(&self) -> bool {
        !matches!(self.step.as_str(), "done" | "failed")
    }
}

fn version(row: &sqlx::postgres::PgRow, col: &str) -> Result<Option<u64>, sqlx::Error> {
    let v: Option<i64> = row.try_get(col)?;
    Ok(v.and_then(|v| u64::try_from(v).ok()))
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The secret's record, if it was ever rotated.
pub async fn load(pool: &PgPool, secret: &str) -> Result<Option<Rotation>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT rotation_id, mode, step, base_version, pending_version, pending_digest, \
         target_role, current_since, previous_since FROM control.rotations WHERE secret = $1",
    )
    .bind(secret)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(Rotation {
            rotation_id: row.try_get("rotation_id")?,
            mode: row.try_get("mode")?,
            step: row.try_get("step")?,
            base_version: version(&row, "base_version")?,
            pending_version: version(&row, "pending_version")?,
            pending_digest: row.try_get("pending_digest")?,
            target_role: row.try_get("target_role")?,
            current_since: row.try_get("current_since")?,
            previous_since: row.try_get("previous_since")?,
        })
    })
    .transpose()
}

/// Starts a new rotation at `check`, keeping when `current` and `previous` were promoted.
pub async fn begin(pool: &PgPool, secret: &str, id: &str, mode: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO control.rotations (secret, rotation_id, mode, step) VALUES ($1, $2, $3, 'check') \
         ON CONFLICT (secret) DO UPDATE SET rotation_id = $2, mode = $3, step = 'check', \
           base_version = NULL, pending_version = NULL, pending_digest = NULL, \
           target_role = NULL, failure = NULL, \
           started_at = now(), updated_at = now(), finished_at = NULL",
    )
    .bind(secret)
    .bind(id)
    .bind(mode)
    .execute(pool)
    .await
    .map(drop)
}

/// Records the next step (before its side effect).
pub async fn advance(pool: &PgPool, secret: &str, step: RotationStep) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE control.rotations SET step = $2, updated_at = now() WHERE secret = $1")
        .bind(secret)
        .bind(step.as_str())
        .execute(pool)
        .await
        .map(drop)
}

/// `check` passed: records what it found and moves to `create`.
pub async fn checked(
    pool: &PgPool,
    secret: &str,
    base_version: u64,
    target_role: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE control.rotations SET step = 'create', base_version = $2, target_role = $3, \
         updated_at = now() WHERE secret = $1",
    )
    .bind(secret)
    .bind(to_i64(base_version))
    .bind(target_role)
    .execute(pool)
    .await
    .map(drop)
}

/// Records the digest of the password `create` is about to add, before it adds it.
pub async fn intend(pool: &PgPool, secret: &str, digest: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE control.rotations SET pending_digest = $2, updated_at = now() WHERE secret = $1",
    )
    .bind(secret)
    .bind(digest)
    .execute(pool)
    .await
    .map(drop)
}

/// Records the version `create` added: from now on it is this rotation's pending version.
pub async fn set_pending(pool: &PgPool, secret: &str, version: u64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE control.rotations SET pending_version = $2, updated_at = now() WHERE secret = $1",
    )
    .bind(secret)
    .bind(to_i64(version))
    .execute(pool)
    .await
    .map(drop)
}

/// The rotation finished: the pending version is `current` since now.
pub async fn finish(pool: &PgPool, secret: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE control.rotations SET step = 'done', finished_at = now(), updated_at = now(), \
         previous_since = current_since, current_since = now() WHERE secret = $1",
    )
    .bind(secret)
    .execute(pool)
    .await
    .map(drop)
}

/// The rotation failed for good at `step`.
pub async fn fail(
    pool: &PgPool,
    secret: &str,
    step: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE control.rotations SET step = 'failed', failure = $2, finished_at = now(), \
         updated_at = now() WHERE secret = $1",
    )
    .bind(secret)
    .bind(json!({ "step": step, "reason": reason }))
    .execute(pool)
    .await
    .map(drop)
}

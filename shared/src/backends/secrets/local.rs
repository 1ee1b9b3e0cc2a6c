//! The local secret store: Secret Manager's semantics in the control database
//! (`control.secrets`, `control.secret_versions`, `control.secret_aliases`; migration
//! `0002_secrets.sql`). Every write that depends on what it read locks the secret's row, so
//! concurrent writers serialize and a stale etag is always detected.

mod aliases;
mod versions;

use super::validate::{validate_label, validate_labels};
use super::{
    validate_secret_name, Labels, SecretError, SecretInfo, SecretStore, VersionInfo, VersionState,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::collections::BTreeMap;

/// Versioned secrets in PostgreSQL, for the local stack and tests.
#[derive(Debug, Clone)]
pub struct LocalSecretStore {
    pool: PgPool,
}

impl LocalSecretStore {
    /// A store over the control database; its migrations must have run.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Locks the secret's row for the rest of the transaction and returns its etag.
    async fn lock(tx: &mut Transaction<'_, Postgres>, name: &str) -> Result<i64, SecretError> {
        sqlx::query_scalar("SELECT etag FROM control.secrets WHERE name = $1 FOR UPDATE")
            .bind(name)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db(name))?
            .ok_or_else(|| SecretError::not_found(name))
    }
}

fn db(name: &str) -> impl Fn(sqlx::Error) -> SecretError + '_ {
    move |e| SecretError::backend(name, e)
}

// Versions are at most i64::MAX in PostgreSQL; anything larger cannot exist.
fn to_i64(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

fn parse_state(name: &str, s: &str) -> Result<VersionState, SecretError> {
    match s {
        "enabled" => Ok(VersionState::Enabled),
        "disabled" => Ok(VersionState::Disabled),
        "destroyed" => Ok(VersionState::Destroyed),
        other => Err(SecretError::backend(
            name,
            format!("unknown version state {other:?}"),
        )),
    }
}

#[async_trait]
impl SecretStore for LocalSecretStore {
    async fn create_secret(&self, name: &str, labels: &Labels) -> Result<bool, SecretError> {
        validate_secret_name(name)?;
        validate_labels(name, labels)?;
        // The no-op update makes the statement return the existing row too, atomically;
        // `xmax = 0` tells a fresh insert from an existing row.
        let row = sqlx::query(
            "INSERT INTO control.secrets (name, labels) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name \
             RETURNING (xmax = 0) AS inserted, labels",
        )
        .bind(name)
        .bind(Json(labels))
        .fetch_one(&self.pool)
        .await
        .map_err(db(name))?;
        let inserted: bool = row.try_get("inserted").map_err(db(name))?;
        let Json(existing): Json<Labels> = row.try_get("labels").map_err(db(name))?;
        if !inserted && &existing != labels {
            let reason = format!("exists with different labels {existing:?}");
            return Err(SecretError::invalid_state(name, None, reason));
        }
        Ok(inserted)
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretInfo>, SecretError> {
        validate_secret_name(name)?;
        // One statement, so labels, aliases and versions come from one snapshot.
        let row = sqlx::query(
            "SELECT s.labels, s.etag, \
               COALESCE((SELECT jsonb_object_agg(a.alias, a.version) \
                         FROM control.secret_aliases a WHERE a.secret = s.name), '{}') AS aliases, \
               ARRAY(SELECT v.version FROM control.secret_versions v \
                     WHERE v.secret = s.name ORDER BY v.version) AS versions, \
               ARRAY(SELECT v.state FROM control.secret_versions v \
                     WHERE v.secret = s.name ORDER BY v.version) AS states, \
               ARRAY(SELECT v.created_at FROM control.secret_versions v \
                     WHERE v.secret = s.name ORDER BY v.version) AS created \
             FROM control.secrets s WHERE s.name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db(name))?;
        let Some(row) = row else { return Ok(None) };
        let get = |e| db(name)(e);
        let Json(labels): Json<Labels> = row.try_get("labels").map_err(get)?;
        let etag: i64 = row.try_get("etag").map_err(get)?;
        let Json(aliases): Json<BTreeMap<String, u64>> = row.try_get("aliases").map_err(get)?;
        let numbers: Vec<i64> = row.try_get("versions").map_err(get)?;
        let states: Vec<String> = row.try_get("states").map_err(get)?;
        let created: Vec<DateTime<Utc>> = row.try_get("created").map_err(get)?;
        let mut versions = Vec::with_capacity(numbers.len());
        for ((number, state), created_at) in numbers.into_iter().zip(&states).zip(created) {
            let version = u64::try_from(number).map_err(|e| SecretError::backend(name, e))?;
            versions.push(VersionInfo {
                version,
                state: parse_state(name, state)?,
                created_at,
            });
        }
        Ok(Some(SecretInfo {
            name: name.to_owned(),
            labels,
            aliases,
            etag: etag.to_string(),
            versions,
        }))
    }

    async fn add_version(&self, name: &str, payload: &SecretString) -> Result<u64, SecretError> {
        self.add(name, payload).await
    }

    async fn access(&self, name: &str, which: &str) -> Result<SecretString, SecretError> {
        self.read(name, which).await
    }

    async fn update_aliases(
        &self,
        name: &str,
        aliases: &BTreeMap<String, u64>,
        etag: &str,
    ) -> Result<String, SecretError> {
        self.replace_aliases(name, aliases, etag).await
    }

    async fn disable_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.set_state(name, version, VersionState::Disabled).await
    }

    async fn enable_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.set_state(name, version, VersionState::Enabled).await
    }

    async fn destroy_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.set_state(name, version, VersionState::Destroyed).await
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, SecretError> {
        validate_secret_name(name)?;
        let done = sqlx::query("DELETE FROM control.secrets WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(db(name))?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_secrets(
        &self,
        label_filter: &[(&str, &str)],
    ) -> Result<Vec<String>, SecretError> {
        let mut wanted = serde_json::Map::new();
        for (key, value) in label_filter {
            validate_label("*", key, value)?;
            let previous = wanted.insert((*key).to_owned(), (*value).into());
            if previous.is_some_and(|p| p != *value) {
                return Ok(Vec::new()); // one key cannot hold two values
            }
        }
        sqlx::query_scalar("SELECT name FROM control.secrets WHERE labels @> $1 ORDER BY name")
            .bind(Json(serde_json::Value::Object(wanted)))
            .fetch_all(&self.pool)
            .await
            .map_err(db("*"))
    }
}

//! The throwaway database a verification restores into: created empty, always dropped.

use sqlx::{Connection, PgConnection};

use super::VerifyError;
use crate::dump::Target;
use crate::store::BackupId;

/// Every scratch database's name starts with this.
pub const SCRATCH_PREFIX: &str = "gk_verify_";
/// The comment that marks a scratch database as ours and dates it (server time, UTC); the
/// leftover sweep drops only databases that carry it.
const MARKER: &str = "managed-by=groundskeeper purpose=verify created=";
/// PostgreSQL truncates identifiers beyond 63 bytes: the id part is cut so the random
/// suffix always survives.
const ID_MAX: usize = 63 - SCRATCH_PREFIX.len() - 9;

/// `gk_verify_{backup_id}_{suffix}`: the id with `-` as `_` (cut to fit 63 bytes), and
/// `suffix` 8 lowercase hex digits so two replicas verifying one backup never collide.
pub fn scratch_name(backup_id: &BackupId, suffix: &str) -> String {
    let id: String = backup_id
        .as_str()
        .replace('-', "_")
        .chars()
        .take(ID_MAX)
        .collect();
    format!("{SCRATCH_PREFIX}{id}_{suffix}")
}

/// Only names this module makes: the prefix, `[a-z0-9_]`, 8 hex digits last, ≤ 63 bytes.
fn is_scratch_name(name: &str) -> bool {
    let Some((_, suffix)) = name.rsplit_once('_') else {
        return false;
    };
    name.starts_with(SCRATCH_PREFIX)
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && suffix.len() == 8
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A scratch database on the admin's server. Drop it with [`ScratchDb::drop_now`]; if the
/// value is dropped instead (a panic, a cancelled future) a background drop is attempted,
/// and [`drop_leftover_scratch`] catches what a crash leaves.
pub struct ScratchDb {
    admin: Target,
    name: String,
    dropped: bool,
}

impl ScratchDb {
    /// Creates an empty database (from `template0`, so restores never meet template
    /// objects) for verifying `backup_id`, marked with the server's time. `admin` needs
    /// CREATEDB.
    pub async fn create(admin: &Target, backup_id: &BackupId) -> Result<Self, VerifyError> {
        let suffix = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let name = scratch_name(backup_id, &suffix);
        if !is_scratch_name(&name) {
            return Err(sqlx::Error::Protocol(format!("refused scratch name {name:?}")).into());
        }
        let mut conn = connect(admin).await?;
        let create = "SELECT format('CREATE DATABASE %I TEMPLATE template0', $1::text)";
        execute_formatted(&mut conn, create, &[&name]).await?;
        let scratch = Self {
            admin: admin.clone(),
            name,
            dropped: false,
        };
        // COMMENT takes a literal only: the server formats it with its own clock.
        let comment = format!(
            "SELECT format('COMMENT ON DATABASE %I IS %L', $1::text, '{MARKER}' || \
             to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
        );
        // On failure `scratch` goes out of scope and its Drop removes the database.
        execute_formatted(&mut conn, &comment, &[&scratch.name]).await?;
        conn.close().await?;
        Ok(scratch)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How to reach it: the admin's server and credentials.
    pub fn target(&self) -> Target {
        Target {
            database: self.name.clone(),
            ..self.admin.clone()
        }
    }

    /// Drops it now, disconnecting whoever is still connected.
    pub async fn drop_now(mut self) -> Result<(), VerifyError> {
        self.dropped = true;
        drop_database(&self.admin, &self.name).await
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Best effort, on a thread of its own: it needs no caller's runtime (which may be
        // shutting down) and lives until the process ends; what it misses, the leftover
        // sweep catches.
        let (admin, name) = (self.admin.clone(), std::mem::take(&mut self.name));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(drop_database(&admin, &name));
            }
        });
    }
}

/// Drops the scratch databases the admin owns that carry the marker and are more than an
/// hour old (a verification takes far less; an older one was left by a crash). Returns
/// their names. Databases without the marker, or owned by another role, are never touched.
pub async fn drop_leftover_scratch(admin: &Target) -> Result<Vec<String>, VerifyError> {
    let mut conn = connect(admin).await?;
    // The CASE guards the cast: only a well-formed marker's timestamp is ever parsed.
    let leftovers: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database d \
         WHERE datname LIKE 'gk\\_verify\\_%' \
           AND datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user) \
           AND CASE WHEN shobj_description(d.oid, 'pg_database') ~ \
                     ('^' || $1 || '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$') \
               THEN substr(shobj_description(d.oid, 'pg_database'), length($1) + 1)::timestamptz \
                    < now() - interval '1 hour' \
               ELSE false END \
         ORDER BY 1",
    )
    .bind(MARKER)
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    let mut dropped = Vec::new();
    for name in leftovers.into_iter().filter(|name| is_scratch_name(name)) {
        drop_database(admin, &name).await?;
        dropped.push(name);
    }
    Ok(dropped)
}

async fn connect(admin: &Target) -> Result<PgConnection, sqlx::Error> {
    PgConnection::connect_with(&admin.connect_options()).await
}

/// Has the server quote `args` into `template` (`format(… %I … %L …)`), then runs the
/// result: no identifier or literal is ever spliced by hand.
pub(crate) async fn execute_formatted(
    conn: &mut PgConnection,
    template: &str,
    args: &[&str],
) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query_scalar(template);
    for arg in args {
        query = query.bind(*arg);
    }
    let statement: String = query.fetch_one(&mut *conn).await?;
    // Through `Executor::execute` (a boxed, `Send` future): `raw_sql(..).execute(..)` makes
    // the handler's future fail the "Executor is not general enough" check.
    sqlx::Executor::execute(&mut *conn, statement.as_str()).await?;
    Ok(())
}

/// `IF EXISTS`: another replica's sweep may have dropped it first.
async fn drop_database(admin: &Target, name: &str) -> Result<(), VerifyError> {
    let mut conn = connect(admin).await?;
    let drop = "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1::text)";
    execute_formatted(&mut conn, drop, &[name]).await?;
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: &str) -> BackupId {
        BackupId::try_from(raw.to_owned()).expect("a valid backup id")
    }

    #[test]
    fn names_keep_the_prefix_and_suffix_within_63_bytes() {
        let name = scratch_name(&id("20261127t030000z-retry"), "0a1b2c3d");
        assert_eq!(name, "gk_verify_20261127t030000z_retry_0a1b2c3d");
        assert!(is_scratch_name(&name));
        let long = scratch_name(&id(&"a".repeat(64)), "0a1b2c3d");
        assert_eq!(long.len(), 63);
        assert!(
            long.ends_with("_0a1b2c3d") && is_scratch_name(&long),
            "{long}"
        );
    }

    #[test]
    fn only_names_of_this_shape_pass() {
        for name in [
            "gk_verify_x_0a1b2c3",
            "gk_verify_x_0A1B2C3D",
            "gk_verify_x\"; DROP_0a1b2c3d",
            "prod_db_0a1b2c3d",
            "gk_verify_x-y_0a1b2c3d",
        ] {
            assert!(!is_scratch_name(name), "{name}");
        }
    }
}

//! The database a restore fills, and the marks that make a restore run once.
//!
//! A database is only ever filled when it is provably ours to fill: one this runner creates
//! (marked "restoring from …" the moment it exists), or a provisioned, non-prod
//! environment's own database that is still empty. The comment on the database records
//! the backup it came from, so a redelivery recognises finished work instead of repeating
//! it, and a database someone else made is never touched.

use events::backup::RestoreRequested;
use events::Tier;
use shared::Ctx;
use sqlx::{Connection, PgConnection};

use crate::dump::Target;
use crate::error::{BackupError, BackupStep};
use crate::verify::execute_formatted;

const RESTORING: &str = "groundskeeper: restoring from ";
const RESTORED: &str = "groundskeeper: restored from ";

/// What `prepare` found.
pub enum Prepared {
    /// Fill this database.
    Ready(Target),
    /// It holds the chosen backup already.
    AlreadyRestored,
    /// An environment's database into which an earlier attempt's restore committed before
    /// that attempt could mark it (a crash between the two): its counts decide.
    Committed(Target),
}

/// Checks (and for a new database, creates) the database `request.into`.
pub async fn prepare(
    ctx: &Ctx,
    admin: &Target,
    request: &RestoreRequested,
    dump_key: &str,
) -> Result<Prepared, BackupError> {
    let into = request.into.as_str();
    let mut conn = connect(admin).await?;
    let comment = database_comment(&mut conn, into).await?;
    if comment.as_deref() == Some(&format!("{RESTORED}{dump_key}")) {
        return Ok(Prepared::AlreadyRestored);
    }
    let mut target = Target {
        database: into.to_owned(),
        session_role: None,
        ..admin.clone()
    };
    match &request.into_environment {
        Some(environment) => {
            let pool = ctx.control_db()?;
            let env = env_provisioner::inventory::get(pool, environment)
                .await?
                .ok_or_else(|| {
                    reject(format!(
                        "environment {} does not exist",
                        environment.as_str()
                    ))
                })?;
            // Being provisioned (from_backup is asked for before it is ready) or ready; a
            // failed, deleting or deleted one has no database to fill.
            if !matches!(env.status.as_str(), "provisioning" | "ready") {
                return Err(reject(format!(
                    "environment {} is {}: there is no database to restore into",
                    environment.as_str(),
                    env.status
                )));
            }
            if env.tier == Tier::Prod {
                return Err(reject(format!(
                    "environment {} is prod: restores never write into prod",
                    environment.as_str()
                )));
            }
            // Its tables belong to the environment's owner role, like everything it creates.
            target.session_role = Some(environment.owner_role());
            let restoring = format!("{RESTORING}{dump_key}");
            if !is_empty(&target).await? {
                if comment.as_deref() == Some(&restoring) {
                    return Ok(Prepared::Committed(target));
                }
                return Err(reject(format!(
                    "database {into} has tables: a restore only fills an empty database"
                )));
            }
            // So that a crash after the restore commits is told from someone's tables.
            set_comment(&mut conn, into, &restoring).await?;
        }
        None => {
            if into.starts_with("env_") {
                return Err(reject(format!(
                    "database {into}: names starting with env_ are environments' databases; give into_environment"
                )));
            }
            match comment {
                // Ours from an attempt that crashed: start it over.
                Some(c) if c == format!("{RESTORING}{dump_key}") => {
                    drop_database(&mut conn, into).await?
                }
                Some(_) => {
                    return Err(reject(format!(
                        "database {into} exists and is not this restore's"
                    )))
                }
                None if database_exists(&mut conn, into).await? => {
                    return Err(reject(format!(
                        "database {into} exists already: a restore creates a new database"
                    )))
                }
                None => {}
            }
            let create = "SELECT format('CREATE DATABASE %I TEMPLATE template0', $1::text)";
            execute_formatted(&mut conn, create, &[into])
                .await
                .map_err(sql)?;
            set_comment(&mut conn, into, &format!("{RESTORING}{dump_key}")).await?;
        }
    }
    Ok(Prepared::Ready(target))
}

/// Marks `into` as restored from `dump_key`.
pub async fn mark(
    admin: &Target,
    into: &events::names::DbIdent,
    dump_key: &str,
) -> Result<(), BackupError> {
    let mut conn = connect(admin).await?;
    set_comment(&mut conn, into.as_str(), &format!("{RESTORED}{dump_key}")).await
}

/// After a failed restore: a database this runner created goes; an environment's database
/// is left to its environment (the single-transaction restore committed nothing).
pub async fn discard(admin: &Target, request: &RestoreRequested) {
    if request.into_environment.is_some() {
        return;
    }
    let into = request.into.as_str();
    let dropped = async {
        let mut conn = connect(admin).await?;
        if database_comment(&mut conn, into)
            .await?
            .is_some_and(|c| c.starts_with(RESTORING))
        {
            drop_database(&mut conn, into).await?;
        }
        Ok::<(), BackupError>(())
    };
    if let Err(e) = dropped.await {
        tracing::warn!(database = into, error = %e, "failed restore's database not dropped");
    }
}

async fn connect(admin: &Target) -> Result<PgConnection, BackupError> {
    PgConnection::connect_with(&admin.connect_options())
        .await
        .map_err(sql)
}

async fn database_comment(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<String>, BackupError> {
    sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await
    .map(Option::flatten)
    .map_err(sql)
}

async fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, BackupError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql)
}

async fn set_comment(
    conn: &mut PgConnection,
    name: &str,
    comment: &str,
) -> Result<(), BackupError> {
    let template = "SELECT format('COMMENT ON DATABASE %I IS %L', $1::text, $2::text)";
    execute_formatted(conn, template, &[name, comment])
        .await
        .map_err(sql)
}

async fn drop_database(conn: &mut PgConnection, name: &str) -> Result<(), BackupError> {
    let template = "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', $1::text)";
    execute_formatted(conn, template, &[name])
        .await
        .map_err(sql)
}

/// No table outside the system schemas.
async fn is_empty(target: &Target) -> Result<bool, BackupError> {
    let counts = crate::verify::row_counts(target)
        .await
        .map_err(|e| BackupError::Transient {
            subject: target.database.clone(),
            step: BackupStep::Restore,
            reason: e.to_string(),
        })?;
    Ok(counts.is_empty())
}

fn reject(reason: String) -> BackupError {
    BackupError::Rejected(reason)
}

fn sql(e: sqlx::Error) -> BackupError {
    BackupError::Transient {
        subject: "restore target".into(),
        step: BackupStep::Restore,
        reason: e.to_string(),
    }
}

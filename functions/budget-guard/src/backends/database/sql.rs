//! The statements of the database backend, and their errors by SQLSTATE.

use events::names::DbIdent;
use sqlx::{PgConnection, PgPool};

use super::DatabaseSettings;
use crate::backends::BackendError;

/// The database's recorded settings; [`BackendError::NotFound`] when it does not exist.
pub(super) async fn fetch(
    conn: &mut PgConnection,
    db: &DbIdent,
) -> Result<DatabaseSettings, BackendError> {
    let row: Option<(bool, i32)> =
        sqlx::query_as("SELECT datallowconn, datconnlimit FROM pg_database WHERE datname = $1")
            .bind(db.as_str())
            .fetch_optional(conn)
            .await
            .map_err(|e| error(db.as_str(), "read pg_database", &e))?;
    let (allow_connections, connection_limit) = row.ok_or_else(|| BackendError::NotFound {
        resource: db.to_string(),
    })?;
    Ok(DatabaseSettings {
        allow_connections,
        connection_limit,
    })
}

/// Changes what differs between `from` and `to`. The identifier is quoted by
/// [`DbIdent::quoted`] (its alphabet has no quote); the values are a bool and an integer.
pub(super) async fn alter(
    conn: &mut PgConnection,
    db: &DbIdent,
    from: DatabaseSettings,
    to: &DatabaseSettings,
) -> Result<(), BackendError> {
    let mut options = Vec::new();
    if from.allow_connections != to.allow_connections {
        options.push(format!("ALLOW_CONNECTIONS {}", to.allow_connections));
    }
    if from.connection_limit != to.connection_limit {
        options.push(format!("CONNECTION LIMIT {}", to.connection_limit));
    }
    if options.is_empty() {
        return Ok(());
    }
    let statement = format!("ALTER DATABASE {} WITH {}", db.quoted(), options.join(" "));
    (sqlx::query(&statement).execute(conn).await)
        .map(drop)
        .map_err(|e| error(db.as_str(), "alter database", &e))
}

/// Ends the idle sessions in `db`, except the admin's own and superusers' (exempt from the
/// limit, and not ours to end). Active queries finish; their sessions end at the next
/// suspension attempt or stay until they disconnect.
pub(super) async fn terminate_idle(admin: &PgPool, db: &DbIdent) -> Result<u64, BackendError> {
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(a.pid)) \
         FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid \
         WHERE a.datname = $1 AND a.state = 'idle' AND a.pid <> pg_backend_pid() \
           AND a.usename <> current_user AND NOT r.rolsuper",
    )
    .bind(db.as_str())
    .fetch_one(admin)
    .await
    .map_err(|e| error(db.as_str(), "terminate idle sessions", &e))?;
    Ok(u64::try_from(ended).unwrap_or(0))
}

/// A statement's failure, by SQLSTATE: connection trouble, serialization failures, lock
/// timeouts, shutdowns and resource shortages are worth a retry, and so is XX000, which is
/// how PostgreSQL reports two concurrent `ALTER DATABASE` of one database ("tuple
/// concurrently updated").
pub(super) fn error(resource: &str, action: &'static str, e: &sqlx::Error) -> BackendError {
    let sqlstate = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    let retryable = match sqlstate.as_deref() {
        Some(code) => {
            matches!(code, "40001" | "40P01" | "55P03" | "XX000")
                || ["08", "53", "57"]
                    .iter()
                    .any(|class| code.starts_with(class))
        }
        None => matches!(
            e,
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_)
        ),
    };
    BackendError::Database {
        resource: resource.to_owned(),
        action,
        sqlstate: sqlstate.unwrap_or_else(|| "none".to_owned()),
        retryable,
    }
}

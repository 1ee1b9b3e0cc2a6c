//! Logging in with a credential the way a client would, and telling a refused login from
//! an unreachable server.

use std::time::Duration;

use shared::backends::databases::DbError;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};

use shared::credential::Credential;

/// How long a test login may take before it counts as the server being unavailable.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Logging in with a credential, as a client would.
pub(crate) trait Login {
    /// Logs in and runs a check query; `then` may run more statements on the connection.
    async fn login(&self, require_tls: bool, then: Option<&str>) -> Result<(), DbError>;
}

impl Login for Credential {
    async fn login(&self, require_tls: bool, then: Option<&str>) -> Result<(), DbError> {
        let action = format!("log in as {} to {}", self.user.quoted(), self.database);
        let Ok(options) = self.options(require_tls);
        match tokio::time::timeout(LOGIN_TIMEOUT, session(options, then.map(str::to_owned))).await {
            Err(_) => Err(DbError::Unavailable {
                action,
                reason: "timed out".into(),
            }),
            Ok(Ok(())) => Ok(()),
            Ok(Err((connected, e))) => Err(classify(action, self, connected, e)),
        }
    }
}

/// Logs in and runs the statements; an error says whether the login had succeeded.
async fn session(
    options: PgConnectOptions,
    then: Option<String>,
) -> Result<(), (bool, sqlx::Error)> {
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|e| (false, e))?;
    let statements = async {
        sqlx::query("SELECT 1").execute(&mut conn).await?;
        if let Some(sql) = then {
            // A plain string with no arguments goes over the simple-query protocol, which
            // runs several statements (what `raw_sql` does, minus its lifetime trouble in
            // `Send` futures over a borrowed connection).
            conn.execute(sql.as_str()).await?;
        }
        Ok(())
    };
    statements.await.map_err(|e| (true, e))?;
    conn.close().await.map_err(|e| (true, e))
}

/// Authentication and privilege errors are a failed login; connection trouble is worth a
/// retry; anything else is refused.
fn classify(
    action: String,
    credential: &Credential,
    connected: bool,
    error: sqlx::Error,
) -> DbError {
    match &error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let reason = format!("{} (SQLSTATE {code})", db.message());
            let refused_login = code.starts_with("28") || code == "42501" || code == "3D000";
            if refused_login && !connected {
                DbError::LoginFailed {
                    role: credential.user.to_string(),
                    database: credential.database.clone(),
                    reason,
                }
            } else if ["08", "53", "57", "40"].iter().any(|c| code.starts_with(c)) {
                DbError::Unavailable { action, reason }
            } else {
                DbError::Refused { action, reason }
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolTimedOut => {
            DbError::Unavailable {
                action,
                reason: error.to_string(),
            }
        }
        // TLS required but refused or unverifiable: a configuration problem, not a blip.
        _ => DbError::Refused {
            action,
            reason: error.to_string(),
        },
    }
}

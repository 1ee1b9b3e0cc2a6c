//! What a PostgreSQL error means for a retry, decided by its SQLSTATE, never by its text
//! (messages are translated with `lc_messages` and change between versions).

use super::DbError;

/// The SQLSTATE of a server error, if `error` is one.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether the same statement may succeed later: connection exceptions (08), insufficient
/// resources (53), shutdown or start-up in progress (57P01–57P03), a cancelled statement
/// (57014, e.g. `statement_timeout`), serialization failure and deadlock (40001, 40P01), a
/// lock or object in use by another session (55P03, 55006). Everything else — privileges and
/// syntax (42xxx), dependent objects (2BP01), invalid names — fails the same way again.
pub(crate) fn retryable(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57014" | "40001" | "40P01" | "55P03" | "55006"
        )
}

/// Why a permanent failure is permanent, in words an operator can act on.
fn explain(code: &str) -> Option<&'static str> {
    match code {
        "2BP01" => Some("other objects depend on it"),
        "42501" => Some("the admin role lacks the privilege"),
        c if c.starts_with("42") => Some("the statement is invalid for this server"),
        _ => None,
    }
}

/// Sorts a driver error into [`DbError::Unavailable`] (retry) or [`DbError::Refused`].
pub(crate) fn classify(action: &str, error: sqlx::Error) -> DbError {
    let action = action.to_owned();
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let mut reason = format!("{} (SQLSTATE {code})", db.message());
            if let Some(why) = explain(&code) {
                reason = format!("{reason}: {why}");
            }
            if retryable(&code) {
                DbError::Unavailable { action, reason }
            } else {
                DbError::Refused { action, reason }
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => DbError::Unavailable {
            action,
            reason: error.to_string(),
        },
        other => DbError::Refused {
            action,
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::retryable;

    #[test]
    fn sqlstates_decide_retryability() {
        for code in [
            "08006", "08001", "53300", "53200", "57P01", "57P03", "40001", "40P01", "55P03",
        ] {
            assert!(retryable(code), "{code} is worth a retry");
        }
        for code in [
            "42501", "42601", "42710", "2BP01", "3D000", "28P01", "22023", "",
        ] {
            assert!(!retryable(code), "{code} fails the same way again");
        }
    }
}

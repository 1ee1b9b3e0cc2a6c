//! What can go wrong while restoring or verifying, and which of it is worth a retry.

/// A restore or verification failed. None of the messages carries a password.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No installed `pg_restore` is at least as new as the `pg_dump` that made the archive
    /// (an older one refuses the archive's format, or worse, half-reads it).
    #[error(
        "no installed pg_restore can read an archive of pg_dump {archive_major}: installed majors are {installed:?}"
    )]
    NoCompatiblePgRestore {
        /// The major version of the `pg_dump` that wrote the archive.
        archive_major: u32,
        /// The major versions of the `pg_restore` binaries found.
        installed: Vec<u32>,
    },
    /// The database refused a query or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// `pg_restore` could not be started or fed.
    #[error("running pg_restore: {0}")]
    Spawn(#[source] std::io::Error),
    /// The archive could not be read (the store, not its content).
    #[error("reading the archive: {0}")]
    ReadArchive(#[source] std::io::Error),
    /// The archive read is not the one the manifest describes (truncated, corrupted).
    #[error("the archive's {what} is {found}, the manifest says {expected}")]
    Mismatch {
        /// `size`, `sha256` or `crc32c`.
        what: &'static str,
        /// The manifest's value.
        expected: String,
        /// The value of the bytes read.
        found: String,
    },
    /// `pg_restore` exited unsuccessfully; `last_line` is its last error line on stderr.
    #[error("pg_restore failed ({status}): {last_line}")]
    PgRestoreFailed {
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The last error line it wrote to stderr, password masked.
        last_line: String,
    },
}

impl VerifyError {
    /// Whether trying again later may succeed: the server or the store was unreachable or
    /// busy. A bad archive, a failed restore or a missing tool stays bad.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Database(error) => database_is_transient(error),
            Self::Spawn(_) | Self::ReadArchive(_) => true,
            Self::NoCompatiblePgRestore { .. } | Self::Mismatch { .. } => false,
            Self::PgRestoreFailed { .. } => false,
        }
    }

    /// Whether the archive itself was at fault: it was read but did not match or restore.
    /// Such a verification has a result (failed), not an error.
    pub(crate) fn is_archive_fault(&self) -> bool {
        matches!(self, Self::Mismatch { .. } | Self::PgRestoreFailed { .. })
    }
}

/// Connection trouble (SQLSTATE class 08), lack of resources (53), a server shutting down
/// or starting (57P), or a serialization or deadlock failure (40001, 40P01).
fn database_is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "40001"
                || code == "40P01"
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_dependency_is_retryable_a_bad_archive_is_not() {
        let io = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(VerifyError::Database(sqlx::Error::Io(io())).is_retryable());
        assert!(VerifyError::ReadArchive(io()).is_retryable());
        let mismatch = VerifyError::Mismatch {
            what: "size",
            expected: "2".into(),
            found: "1".into(),
        };
        assert!(!mismatch.is_retryable() && mismatch.is_archive_fault());
        let refused = VerifyError::Database(sqlx::Error::RowNotFound);
        assert!(!refused.is_retryable() && !refused.is_archive_fault());
    }
}

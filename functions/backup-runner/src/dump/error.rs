//! What can go wrong while dumping.

/// A dump failed. None of the messages carries the database password.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// No installed `pg_dump` has a major version at least the server's (pg_dump refuses
    /// to dump a newer server).
    #[error(
        "no installed pg_dump can dump PostgreSQL {server_major}: installed majors are {installed:?}"
    )]
    NoCompatiblePgDump {
        /// The server's major version.
        server_major: u32,
        /// The major versions of the `pg_dump` binaries found.
        installed: Vec<u32>,
    },
    /// The database refused a query (connecting, the snapshot, the row counts).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// `pg_dump` could not be started or its output could not be read.
    #[error("running pg_dump: {0}")]
    Spawn(#[source] std::io::Error),
    /// `pg_dump` exited unsuccessfully; `last_line` is its last error line on stderr.
    #[error("pg_dump failed ({status}): {last_line}")]
    PgDumpFailed {
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The last error line it wrote to stderr (or its last line).
        last_line: String,
    },
    /// `pg_dump` succeeded but did not write a custom-format archive.
    #[error("pg_dump's output is not a custom-format archive (no PGDMP header)")]
    NotAnArchive,
    /// `pg_dump` failed and the runner's own session on the server ended with it: the server
    /// restarted or shut down, so the dump may pass on a retry.
    #[error("{0} (the server ended the runner's own session too: it restarted or shut down)")]
    ServerGone(Box<DumpError>),
    /// The sink refused the bytes.
    #[error("writing the dump: {0}")]
    Sink(#[source] std::io::Error),
}

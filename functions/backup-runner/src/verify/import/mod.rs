//! Verifying a Cloud SQL export by importing it: a fresh scratch database, the gzipped SQL
//! streamed through `psql` into it, every table's exact row count, the scratch database
//! dropped whatever happens. Memorystore's RDB files cannot be imported into PostgreSQL and
//! are not verified this way.

mod lines;
mod psql;
mod record;
mod stderr;

use std::path::Path;

use sqlx::{Connection, PgConnection};
use tokio::io::AsyncRead;

use super::{row_counts, ScratchDb, VerifyError};
use crate::dump::{discover_pg_tools, newest_at_least, PgDump, Target};
use crate::store::BackupId;
pub use record::{ExportVerification, EXPORT_VERIFICATION_FORMAT};

/// Why an import could not be tried; the export's own faults are a failed record instead.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// No installed psql can import into the scratch server safely.
    #[error(
        "no installed psql can import into the scratch server (PostgreSQL {server_major}): one of \
         at least that major and with \\restrict (13.22, 14.19, 15.14, 16.10, 17.6 or newer) is \
         needed; installed: {installed:?}"
    )]
    NoCompatiblePsql {
        /// The scratch server's major version.
        server_major: u32,
        /// The `--version` lines of the psql binaries found.
        installed: Vec<String>,
    },
    /// The scratch database or the counts failed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// psql could not be started or fed.
    #[error("running psql: {0}")]
    Spawn(#[source] std::io::Error),
    /// The export could not be read from the bucket.
    #[error("reading the export: {0}")]
    ReadExport(#[source] std::io::Error),
}

impl ImportError {
    /// Whether trying again later may succeed (a server or the bucket unreachable).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::NoCompatiblePsql { .. } => false,
            Self::Verify(error) => error.is_retryable(),
            Self::Spawn(_) | Self::ReadExport(_) => true,
        }
    }
}

/// Imports the gzipped plain-SQL export `object` (the bucket's `object_key`) into a fresh
/// scratch database on `admin`'s server with the newest suitable psql (one beside
/// `pg_restore` first), counts every table's rows, and drops the scratch database.
///
/// `Ok` with `passed = false` when the export was read but does not import; `Err` when
/// the import could not be tried. A scratch database that could not be dropped is an error
/// too (retry; [`super::drop_leftover_scratch`] removes it within the hour).
pub async fn import_export<R: AsyncRead + Unpin>(
    object: R,
    object_key: &str,
    backup_id: &BackupId,
    admin: &Target,
    pg_restore: Option<&Path>,
) -> Result<ExportVerification, ImportError> {
    let major = server_major(admin).await?;
    let tool = select_psql(pg_restore, major).await?;
    let scratch = ScratchDb::create(admin, backup_id).await?;
    let target = scratch.target();
    let imported = match psql::run_psql(&tool, object, &target).await {
        Ok(Ok(skipped)) => (row_counts(&target).await)
            .map(|counts| Ok((skipped, counts)))
            .map_err(ImportError::from),
        Ok(Err(reason)) => Ok(Err(reason)),
        Err(error) => Err(error),
    };
    // Dropped before anything is judged, so every path below has already cleaned up.
    let dropped = scratch.drop_now().await;
    let imported = imported?;
    if imported.is_err() {
        // psql also fails when the server goes away mid-import: not the export's fault.
        server_major(admin).await?;
    }
    dropped?;
    Ok(ExportVerification::new(object_key, &tool.version, imported))
}

/// The newest installed psql at least `server_major` that supports `\restrict`: the one
/// beside a configured `pg_restore` first, then `PATH`, then `/usr/lib/postgresql/*/bin`.
async fn select_psql(pg_restore: Option<&Path>, server_major: u32) -> Result<PgDump, ImportError> {
    let beside = pg_restore
        .and_then(Path::parent)
        .map(|dir| dir.join("psql"));
    let installed = discover_pg_tools("psql", beside.as_deref()).await;
    let safe: Vec<PgDump> = installed
        .iter()
        .filter(|tool| has_restrict(&tool.version))
        .cloned()
        .collect();
    newest_at_least(&safe, server_major).ok_or_else(|| ImportError::NoCompatiblePsql {
        server_major,
        installed: installed.into_iter().map(|tool| tool.version).collect(),
    })
}

/// Whether the psql of this `--version` line has `\restrict` (added in the August 2025
/// minor releases, CVE-2025-8714).
fn has_restrict(version_line: &str) -> bool {
    let Some(number) = version_line
        .split_whitespace()
        .skip_while(|word| *word != "(PostgreSQL)")
        .nth(1)
    else {
        return false;
    };
    let mut parts = number.split('.').map(|part| {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().unwrap_or(0)
    });
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    match major {
        18.. => true,
        17 => minor >= 6,
        16 => minor >= 10,
        15 => minor >= 14,
        14 => minor >= 19,
        13 => minor >= 22,
        _ => false,
    }
}

/// The admin's server's major version (also the check that it is reachable).
async fn server_major(admin: &Target) -> Result<u32, VerifyError> {
    let mut conn = PgConnection::connect_with(&admin.connect_options()).await?;
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(u32::try_from(version / 10_000).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::has_restrict;

    #[test]
    fn only_psql_releases_with_restrict_are_used() {
        for (line, ok) in [
            ("psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", true),
            ("psql (PostgreSQL) 15.13", false),
            ("psql (PostgreSQL) 16.10", true),
            ("psql (PostgreSQL) 17.5", false),
            ("psql (PostgreSQL) 18beta1", true),
            ("psql (PostgreSQL) 12.22", false),
            ("not psql", false),
        ] {
            assert_eq!(has_restrict(line), ok, "{line}");
        }
    }
}

//! One verification: restore the backup into a scratch database and compare every table's
//! exact row count with the manifest's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::{Connection, PgConnection};
use tokio::io::AsyncRead;

use super::{
    discover_pg_restores, row_counts, run_pg_restore, select_pg_restore, Expected, Mismatch,
    ScratchDb, VerificationRecord, VerifyError,
};
use crate::dump::Target;
use crate::manifest::Manifest;

/// Verifies the backup `manifest` describes, reading its dump from `archive`: a full
/// restore (one transaction, `--exit-on-error`) into a fresh scratch database on `admin`'s
/// server, then every table's count compared with the manifest. The scratch database is
/// dropped whatever happens.
///
/// `Ok` with `passed = false` when the archive was read but differs from its manifest,
/// does not restore, or restores other counts. `Err` only when verification could not be
/// tried (no suitable pg_restore, the server or the archive unreachable): see
/// [`VerifyError::is_retryable`]. A scratch database that could not be dropped is an
/// error too (retry; [`super::drop_leftover_scratch`] removes it within the hour).
pub async fn verify_backup<R: AsyncRead + Unpin>(
    archive: R,
    manifest: &Manifest,
    admin: &Target,
    pg_restore: Option<&Path>,
) -> Result<VerificationRecord, VerifyError> {
    let expected = Expected::from_manifest(manifest);
    let installed = discover_pg_restores(pg_restore).await;
    let tool = select_pg_restore(&installed, expected.pg_dump_major)?;
    let scratch = ScratchDb::create(admin, &manifest.backup_id).await?;
    let target = scratch.target();
    let restored = match run_pg_restore(&tool, archive, &target, &expected).await {
        Ok(_) => row_counts(&target).await.map(Ok),
        Err(error) if error.is_archive_fault() => Ok(Err(error)),
        Err(error) => Err(error),
    };
    // Dropped before anything is judged, so every path below has already cleaned up.
    let dropped = scratch.drop_now().await;
    let record = match restored? {
        Ok(found) => {
            let (tables_checked, mismatches) = compare(&manifest.row_counts, &found);
            let reason = (!mismatches.is_empty()).then(|| describe(&mismatches));
            VerificationRecord::new(manifest, &tool.version, tables_checked, mismatches, reason)
        }
        Err(error) => {
            // pg_restore also fails when the server goes away mid-restore: that is not the
            // archive's fault, and a retry will tell.
            ping(admin).await?;
            let reason = Some(error.to_string());
            VerificationRecord::new(manifest, &tool.version, 0, Vec::new(), reason)
        }
    };
    dropped?;
    Ok(record)
}

/// The tables of either side whose counts differ (or that one side lacks), and how many
/// tables were compared.
fn compare(
    expected: &BTreeMap<String, i64>,
    found: &BTreeMap<String, i64>,
) -> (usize, Vec<Mismatch>) {
    let tables: BTreeSet<&String> = expected.keys().chain(found.keys()).collect();
    let mismatches = tables
        .iter()
        .map(|table| Mismatch {
            table: (*table).clone(),
            expected: expected.get(*table).copied(),
            found: found.get(*table).copied(),
        })
        .filter(|mismatch| mismatch.expected != mismatch.found)
        .collect();
    (tables.len(), mismatches)
}

/// "row counts differ from the manifest: public.items expected 30, found 29; …".
fn describe(mismatches: &[Mismatch]) -> String {
    let count = |value: Option<i64>| value.map_or("no table".to_owned(), |n| n.to_string());
    let tables: Vec<String> = mismatches
        .iter()
        .map(|m| {
            let (expected, found) = (count(m.expected), count(m.found));
            format!("{} expected {expected}, found {found}", m.table)
        })
        .collect();
    format!("row counts differ from the manifest: {}", tables.join("; "))
}

async fn ping(admin: &Target) -> Result<(), VerifyError> {
    let mut conn = PgConnection::connect_with(&admin.connect_options()).await?;
    conn.ping().await?;
    conn.close().await?;
    Ok(())
}

//! The manifest written beside each dump: what it is, how to check it, what it must restore.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use events::names::{DbIdent, EnvName};
use events::Tier;
use serde::{Deserialize, Serialize};

use crate::dump::DumpReport;
use crate::store::{BackupId, BackupLocation};

/// The manifest format; bumped when a field changes meaning.
pub const MANIFEST_FORMAT: u32 = 1;

/// One backup's manifest (JSON). It holds names, versions, checksums and counts only: no
/// connection details, so no password can reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// The backup's id (its object name without extension).
    pub backup_id: BackupId,
    /// The environment the database belongs to.
    pub environment: EnvName,
    /// The database dumped.
    pub database: DbIdent,
    /// The environment's tier (drives retention).
    pub tier: Tier,
    /// The backup window this dump belongs to (the idempotency key with `database`).
    pub window_id: String,
    /// When the dump started.
    pub started_at: DateTime<Utc>,
    /// When the dump object was complete.
    pub finished_at: DateTime<Utc>,
    /// The dump object's key.
    pub object: String,
    /// sha256 of the dump object, lowercase hex.
    pub sha256: String,
    /// crc32c of the dump object.
    pub crc32c: u32,
    /// The dump object's size in bytes.
    pub size: u64,
    /// `pg_dump --version` of the binary that made it.
    pub pg_dump_version: String,
    /// The server's `server_version_num`.
    pub server_version: u32,
    /// Exact rows per table (`schema.table`, quoted as `%I.%I`) in the dumped snapshot.
    pub row_counts: BTreeMap<String, i64>,
}

impl Manifest {
    /// The manifest of the dump `report` stored at `location`.
    pub fn new(
        location: &BackupLocation,
        tier: Tier,
        window_id: &str,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        report: &DumpReport,
    ) -> Self {
        Self {
            format: MANIFEST_FORMAT,
            backup_id: location.backup_id.clone(),
            environment: location.environment.clone(),
            database: location.database.clone(),
            tier,
            window_id: window_id.to_owned(),
            started_at,
            finished_at,
            object: location.dump_key(),
            sha256: report.sha256_hex.clone(),
            crc32c: report.crc32c,
            size: report.size,
            pg_dump_version: report.pg_dump_version.clone(),
            server_version: report.server_version,
            row_counts: report.row_counts.clone(),
        }
    }

    /// The manifest as pretty JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a manifest always serialises: string keys only")
    }
}

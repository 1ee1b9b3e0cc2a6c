//! The verification record written beside the manifest: whether the backup restored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;
use crate::store::BackupId;

/// The record format; bumped when a field changes meaning.
pub const VERIFICATION_FORMAT: u32 = 1;

/// One verification's outcome (JSON, at `BackupLocation::verification_key()`). Names,
/// counts and the tool's version only: no connection details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    /// [`VERIFICATION_FORMAT`].
    pub format: u32,
    /// The backup verified.
    pub backup_id: BackupId,
    /// The dump object's key.
    pub object: String,
    /// Whether the archive matched its manifest, restored fully and every table's row
    /// count equals the manifest's.
    pub passed: bool,
    /// When the verification finished.
    pub checked_at: DateTime<Utc>,
    /// How many tables were compared (those of the manifest and of the restore together).
    pub tables_checked: usize,
    /// The tables whose counts differ, or that only one side has.
    pub mismatches: Vec<Mismatch>,
    /// Why it failed, for a person; `None` when it passed.
    pub reason: Option<String>,
    /// `pg_restore --version` of the binary used.
    pub pg_restore_version: String,
}

/// One table whose restored row count is not the manifest's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The table, `%I.%I` as in the manifest.
    pub table: String,
    /// The manifest's count (`None`: the table is not in the manifest).
    pub expected: Option<i64>,
    /// The restored count (`None`: the table was not restored).
    pub found: Option<i64>,
}

impl VerificationRecord {
    /// A record for `manifest`'s backup, checked now; `reason` is `None` exactly when it
    /// passed.
    pub(crate) fn new(
        manifest: &Manifest,
        pg_restore_version: &str,
        tables_checked: usize,
        mismatches: Vec<Mismatch>,
        reason: Option<String>,
    ) -> Self {
        Self {
            format: VERIFICATION_FORMAT,
            backup_id: manifest.backup_id.clone(),
            object: manifest.object.clone(),
            passed: reason.is_none(),
            checked_at: Utc::now(),
            tables_checked,
            mismatches,
            reason,
            pg_restore_version: pg_restore_version.to_owned(),
        }
    }

    /// The record of a backup whose dump is gone while its manifest remains: failed.
    pub fn missing_dump(manifest: &Manifest) -> Self {
        let reason = format!("the dump {} is missing", manifest.object);
        Self::new(manifest, "", 0, Vec::new(), Some(reason))
    }

    /// The record as pretty JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a record always serialises: string keys only")
    }
}

//! The verification record of a managed export, written beside it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The record format; bumped when a field changes meaning.
pub const EXPORT_VERIFICATION_FORMAT: u32 = 1;

/// Whether a Cloud SQL export imported into a scratch database (JSON, at
/// `{object}.verification.json`). Names and counts only: no connection details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportVerification {
    /// [`EXPORT_VERIFICATION_FORMAT`].
    pub format: u32,
    /// The export's key in the bucket.
    pub object: String,
    /// Whether it imported with no error other than skipped ownership and privilege
    /// statements.
    pub passed: bool,
    /// When the import finished.
    pub checked_at: DateTime<Utc>,
    /// Exact rows per imported table (`%I.%I`), counted after the import; empty when it
    /// failed. Cloud SQL records no counts of its own, so these describe, not compare.
    pub row_counts: BTreeMap<String, i64>,
    /// Ownership and privilege statements refused for roles the scratch server lacks.
    pub skipped_role_statements: u64,
    /// Why it failed, for a person; `None` when it passed.
    pub reason: Option<String>,
    /// `psql --version` of the binary used.
    pub psql_version: String,
}

impl ExportVerification {
    /// The key of the record of the export at `object_key`.
    pub fn key_of(object_key: &str) -> String {
        format!("{object_key}.verification.json")
    }

    pub(super) fn new(
        object: &str,
        psql_version: &str,
        imported: Result<(u64, BTreeMap<String, i64>), String>,
    ) -> Self {
        let (passed, skipped_role_statements, row_counts, reason) = match imported {
            Ok((skipped, counts)) => (true, skipped, counts, None),
            Err(reason) => (false, 0, BTreeMap::new(), Some(reason)),
        };
        Self {
            format: EXPORT_VERIFICATION_FORMAT,
            object: object.to_owned(),
            passed,
            checked_at: Utc::now(),
            row_counts,
            skipped_role_statements,
            reason,
            psql_version: psql_version.to_owned(),
        }
    }

    /// The record as pretty JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a record always serialises: string keys only")
    }
}

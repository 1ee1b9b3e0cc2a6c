//! The pending record: what a dump in progress will be, written before the dump starts.
//!
//! The dump object is created atomically, but the manifest is a second object; a crash
//! between the two would leave a complete dump nobody can describe (its row counts came
//! from a snapshot that is gone). The pending record holds everything of the manifest that
//! is known before the first byte, so a redelivery finds the dump, checksums it from the
//! store, and writes the manifest it should have had. It is replaced by each new attempt
//! (only the attempt whose dump landed matters) and removed once the manifest exists.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What is known of a backup before its dump runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBackup {
    /// When this attempt started.
    pub started_at: DateTime<Utc>,
    /// `pg_dump --version` of the binary chosen.
    pub pg_dump_version: String,
    /// The server's `server_version_num`.
    pub server_version: u32,
    /// Exact rows per table in the snapshot being dumped.
    pub row_counts: BTreeMap<String, i64>,
}

impl PendingBackup {
    /// The record as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("string keys only: always serialises")
    }
}

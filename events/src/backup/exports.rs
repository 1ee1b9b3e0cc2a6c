//! Managed exports: Cloud SQL and Memorystore write their own export into a bucket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::environment::window_key;
use crate::{types, TypedEvent};

/// `dev.groundskeeper.backup.export.requested.v1`: one configured managed export of a
/// window (published by the window's fan-out, one per entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequested {
    /// The entry as configured: `PROJECT:INSTANCE:DATABASE` (Cloud SQL) or
    /// `projects/P/locations/L/instances/I` (Memorystore for Redis). Only configured entries
    /// are exported.
    pub export: String,
    /// The window it belongs to (names the object, which is the idempotency key).
    pub window: DateTime<Utc>,
}

impl TypedEvent for ExportRequested {
    const TYPE: &'static str = types::BACKUP_EXPORT_REQUESTED;

    fn idempotency_key(&self) -> Option<String> {
        window_key(
            &format!("{}:{}", Self::TYPE, self.export),
            Some(self.window),
        )
    }
}

/// `dev.groundskeeper.backup.exported.v1`: a managed export is stored with its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupExported {
    /// `cloudsql` or `redis`.
    pub kind: String,
    /// The instance, as configured.
    pub instance: String,
    /// The database (Cloud SQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Where the export is, e.g. `gs://bucket/managed/cloudsql/…sql.gz`.
    pub location: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Its SHA-256 (also in its manifest).
    pub sha256: String,
}

impl TypedEvent for BackupExported {
    const TYPE: &'static str = types::BACKUP_EXPORTED;
}

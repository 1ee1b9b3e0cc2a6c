//! What one managed export produced, for the manifest the caller writes.

use serde::Serialize;
use shared::backends::object_store::{ObjectStore, StoreError};

/// Which managed service exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportKind {
    /// Cloud SQL Admin `instances.export` (a gzipped SQL dump).
    CloudSql,
    /// Memorystore for Redis `ExportInstance` (an RDB file).
    Redis,
}

/// One managed export's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    /// The service that exported.
    pub kind: ExportKind,
    /// `project:instance` (Cloud SQL) or `projects/P/locations/L/instances/I` (Redis).
    pub instance: String,
    /// The database, for Cloud SQL.
    pub database: Option<String>,
    /// The object's key in the export bucket (prefix included).
    pub object_key: String,
    /// The object's size in bytes, as listed after the export.
    pub size: u64,
    /// The operation that wrote the object; `None` when the object was already there (an
    /// earlier delivery or another replica exported this window) and nothing was started.
    pub operation: Option<String>,
}

/// The size of the object under exactly `key`, or `None` when there is none.
pub(super) async fn object_size(
    store: &dyn ObjectStore,
    key: &str,
) -> Result<Option<u64>, StoreError> {
    Ok(store.head(key).await?.map(|object| object.size))
}

//! What every managed export shares: one at a time per instance, nothing started when the
//! window's object exists, and the object checked once the operation has finished.

use std::future::Future;

use shared::backends::object_store::ObjectStore;

use super::error::ManagedError;
use super::locks::InstanceLocks;
use super::report::{object_size, ExportKind, ExportReport};

/// One export to run: what it exports, and the object (its idempotency key).
pub(super) struct ExportTarget {
    pub kind: ExportKind,
    pub instance: String,
    pub database: Option<String>,
    pub key: String,
}

/// How a started export's operation ended.
pub(super) enum Finished {
    /// The operation reported success.
    Succeeded { operation: String },
    /// The operation reported an error.
    Failed {
        operation: String,
        code: String,
        message: String,
    },
}

/// Runs `start` (start the export, wait for its operation) unless `target`'s object exists,
/// holding the instance's turn throughout, then reports the object.
pub(super) async fn export_once<Fut>(
    locks: &InstanceLocks,
    store: &dyn ObjectStore,
    target: ExportTarget,
    start: impl FnOnce() -> Fut,
) -> Result<ExportReport, ManagedError>
where
    Fut: Future<Output = Result<Finished, ManagedError>>,
{
    let _turn = locks.lock(&target.instance).await;
    // Checked while holding the turn, so an export of this key just before us is seen.
    if let Some(size) = object_size(store, &target.key).await? {
        return Ok(target.report(size, None));
    }
    let finished = start().await?;
    let size = object_size(store, &target.key).await?;
    match (finished, size) {
        (Finished::Succeeded { operation }, Some(size)) => Ok(target.report(size, Some(operation))),
        // Our operation failed, yet the window's object is there: another replica exported
        // it between our check and our start (Cloud SQL fails an export whose file exists).
        (Finished::Failed { .. }, Some(size)) => Ok(target.report(size, None)),
        (
            Finished::Failed {
                operation,
                code,
                message,
            },
            None,
        ) => Err(ManagedError::OperationFailed {
            instance: target.instance,
            operation,
            code,
            message,
        }),
        (Finished::Succeeded { operation }, None) => Err(ManagedError::ObjectMissing {
            instance: target.instance,
            operation,
            key: target.key,
        }),
    }
}

impl ExportTarget {
    fn report(self, size: u64, operation: Option<String>) -> ExportReport {
        ExportReport {
            kind: self.kind,
            instance: self.instance,
            database: self.database,
            object_key: self.key,
            size,
            operation,
        }
    }
}

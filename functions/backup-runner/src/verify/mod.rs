//! Verification and restore: a backup is known good only once it has restored.
//!
//! [`restore_archive`] streams an archive into `pg_restore` (one transaction, checksummed on
//! the way against the manifest); [`ScratchDb`] is the throwaway database a verification
//! restores into, always dropped afterwards; [`verify_backup`] restores into one and compares
//! every table's exact row count with the manifest's, giving a [`VerificationRecord`].
//! [`import_export`] imports a Cloud SQL export (gzipped SQL) into a scratch database the
//! same way. [`row_counts`] and [`table_checksums`] describe any database for those comparisons.

mod counts;
mod error;
mod import;
mod record;
mod restore;
mod scratch;
mod select;
// The module is named for the step, like its parent; nothing else fits better.
#[allow(clippy::module_inception)]
mod verify;

pub use counts::{row_counts, table_checksums};
pub use error::VerifyError;
pub use import::{import_export, ExportVerification, ImportError, EXPORT_VERIFICATION_FORMAT};
pub use record::{Mismatch, VerificationRecord, VERIFICATION_FORMAT};
pub use restore::{restore_archive, run_pg_restore, Expected, RestoreReport};
pub(crate) use scratch::execute_formatted;
pub use scratch::{drop_leftover_scratch, scratch_name, ScratchDb, SCRATCH_PREFIX};
pub use select::{discover_pg_restores, select_pg_restore};
pub use verify::verify_backup;

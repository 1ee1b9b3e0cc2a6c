//! Where a backup goes and how it is written: never over an existing object.
//!
//! [`BackupLocation`] builds the keys from validated names only; [`CreateOnlyDir`] writes
//! an object only if its key is absent, so a redelivered window can never replace a backup
//! and a crash mid-upload leaves nothing under the final name.

mod create_only;
mod layout;

pub use create_only::{CreateError, CreateOnlyDir, PendingObject};
pub use layout::{BackupId, BackupLocation, LayoutError};

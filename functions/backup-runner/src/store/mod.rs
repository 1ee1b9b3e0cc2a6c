//! Where a backup goes and how it gets there.
//!
//! [`BackupLocation`] builds the keys from validated names only; the dump reaches the object
//! store through a [`gated_pipe`], so a dump that fails half-way abandons its upload instead
//! of publishing a truncated object. Objects are written with the store's create-only
//! `put_stream_if_absent`: a redelivered window can never replace a backup.

mod gate;
mod layout;

pub use gate::{gated_pipe, DumpSide, GatedReader};
pub use layout::{BackupId, BackupLocation, LayoutError};

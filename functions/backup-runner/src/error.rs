//! The runner's steps and its error, on the task kit.

use shared::task::TaskError;

shared::steps! {
    /// The steps `backup.failed` names.
    pub enum BackupStep: "backup" of "database" {
        /// The window: too late to start, or cancelled at its end.
        Window = "window",
        /// pg_dump and the snapshot.
        Dump = "dump",
        /// Streaming the dump to the object store.
        Upload = "upload",
        /// The manifest beside the dump.
        Manifest = "manifest",
        /// Restoring into a scratch database and comparing counts.
        Verify = "verify",
        /// Pruning old backups.
        Retention = "retention",
        /// Restoring into a new database.
        Restore = "restore",
        /// A managed (Cloud SQL / Memorystore) export.
        Export = "export",
    }
}

/// What can go wrong handling one event.
pub type BackupError = TaskError<BackupStep>;

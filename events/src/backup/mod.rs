//! Backup events, handled and published by `backup-runner`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::environment::window_key;
use crate::names::{DbIdent, EnvName};
use crate::{types, TypedEvent};

mod exports;
mod followups;
mod restore;

pub use exports::{BackupExported, ExportRequested};
pub use followups::{BackupOverdue, BackupSkipped, BackupVerified, VerifyRequested};
pub use restore::{BackupRestored, RestoreRequested};

/// `dev.groundskeeper.backup.window.v1`: the nightly Cloud Scheduler job; dumps every managed
/// database, applies retention and verifies restores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupWindow {
    /// The schedule window, when stated (see [`crate::environment::TtlSweep::window`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DateTime<Utc>>,
}

impl TypedEvent for BackupWindow {
    const TYPE: &'static str = types::BACKUP_WINDOW;

    fn idempotency_key(&self) -> Option<String> {
        window_key(Self::TYPE, self.window)
    }
}

/// `dev.groundskeeper.backup.requested.v1`: back up now: one environment, or all when
/// `environment` is absent. The window fan-out publishes one per database, with `window`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupRequested {
    /// The environment to back up; absent means every managed database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvName>,
    /// One database of the environment: an extra database from the runner's configuration
    /// (absent: the environment's own database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DbIdent>,
    /// The backup window this backup belongs to; absent for an on-demand backup (its window
    /// is the minute it was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DateTime<Utc>>,
    /// Why, for the record (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl TypedEvent for BackupRequested {
    const TYPE: &'static str = types::BACKUP_REQUESTED;

    /// A window's backup of one database runs once: (environment, database, window).
    fn idempotency_key(&self) -> Option<String> {
        let window = self.window?;
        let environment = self.environment.as_ref()?;
        let database = self
            .database
            .as_ref()
            .map_or_else(|| environment.database(), Clone::clone);
        window_key(
            &format!(
                "{}:{}/{}",
                Self::TYPE,
                environment.as_str(),
                database.as_str()
            ),
            Some(window),
        )
    }

    fn validate(&self) -> Result<(), String> {
        if self.database.is_some() && self.environment.is_none() {
            return Err(
                "database: names a database of an environment; give `environment` too".into(),
            );
        }
        Ok(())
    }
}

/// `dev.groundskeeper.backup.completed.v1`: a dump is stored with its checksum manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupCompleted {
    /// The environment.
    pub environment: EnvName,
    /// The database dumped.
    pub database: DbIdent,
    /// The backup's id, unique per environment (e.g. its start time).
    pub backup_id: String,
    /// Where the dump is, e.g. `gs://bucket/backups/x/2024-05-01T02:00:00Z.dump`.
    pub location: String,
    /// The dump's size in bytes.
    pub size_bytes: u64,
    /// The dump's SHA-256, 64 lowercase hex digits (also in the manifest).
    pub sha256: String,
    /// When the dump started.
    pub started_at: DateTime<Utc>,
    /// When the dump was written and verified.
    pub finished_at: DateTime<Utc>,
}

impl TypedEvent for BackupCompleted {
    const TYPE: &'static str = types::BACKUP_COMPLETED;

    fn validate(&self) -> Result<(), String> {
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if self.sha256.len() != 64 || !self.sha256.chars().all(hex) {
            return Err(format!(
                "sha256: {:?} is not 64 lowercase hex digits",
                self.sha256
            ));
        }
        if self.finished_at < self.started_at {
            return Err("finished_at: earlier than started_at".into());
        }
        Ok(())
    }
}

/// `dev.groundskeeper.backup.failed.v1`: a backup of one environment failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupFailed {
    /// The environment.
    pub environment: EnvName,
    /// The database, when the failure concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DbIdent>,
    /// The backup, when one was under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<String>,
    /// The step that failed: `dump`, `upload`, `manifest`, `verify`, `retention`, `window`,
    /// `restore` or `export`.
    pub step: String,
    /// Why, in words a person can act on.
    pub reason: String,
}

impl TypedEvent for BackupFailed {
    const TYPE: &'static str = types::BACKUP_FAILED;
}

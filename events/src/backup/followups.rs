//! What follows a backup: its verification, a skipped window, an overdue database.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::names::{DbIdent, EnvName};
use crate::{types, TypedEvent};

/// `dev.groundskeeper.backup.verify.requested.v1`: restore one stored backup into a scratch
/// database and compare every table's row count with its manifest. Published by the runner
/// after each backup, so verification is its own delivery, retried on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequested {
    /// The environment.
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// The backup's day (UTC), part of its object key.
    pub date: NaiveDate,
    /// The backup's id.
    pub backup_id: String,
}

impl TypedEvent for VerifyRequested {
    const TYPE: &'static str = types::BACKUP_VERIFY_REQUESTED;

    /// One verification per backup: a redelivery finds the record and stops.
    fn idempotency_key(&self) -> Option<String> {
        Some(format!(
            "{}:{}/{}/{}",
            Self::TYPE,
            self.environment.as_str(),
            self.database.as_str(),
            self.backup_id
        ))
    }
}

/// `dev.groundskeeper.backup.verified.v1`: a backup restored and matched its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupVerified {
    /// The environment.
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// The backup's id.
    pub backup_id: String,
    /// Where the dump is.
    pub location: String,
    /// How many tables were restored and counted.
    pub tables_checked: u64,
}

impl TypedEvent for BackupVerified {
    const TYPE: &'static str = types::BACKUP_VERIFIED;
}

/// `dev.groundskeeper.backup.skipped.v1`: a window's backup did not start because its start
/// window had passed (the delivery came too late); nothing was dumped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupSkipped {
    /// The environment.
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// The window it belonged to.
    pub window: DateTime<Utc>,
    /// Why, e.g. "the start window closed at 04:00:00 UTC".
    pub reason: String,
}

impl TypedEvent for BackupSkipped {
    const TYPE: &'static str = types::BACKUP_SKIPPED;
}

/// `dev.groundskeeper.backup.overdue.v1`: the dead-man's switch: a database whose newest
/// verified backup is older than its recovery point objective, or that has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupOverdue {
    /// The environment.
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// When its newest verified backup finished; absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_verified: Option<DateTime<Utc>>,
    /// The recovery point objective it misses, in hours.
    pub rpo_hours: u64,
}

impl TypedEvent for BackupOverdue {
    const TYPE: &'static str = types::BACKUP_OVERDUE;
}

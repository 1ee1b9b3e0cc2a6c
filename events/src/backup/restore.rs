//! Restoring a backup into a new database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::names::{DbIdent, EnvName};
use crate::{types, TypedEvent};

/// `dev.groundskeeper.backup.restore.requested.v1`: restore the newest verified backup of an
/// environment's database taken at or before `at` into the new, empty database `into`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequested {
    /// The environment whose backup is restored.
    pub environment: EnvName,
    /// Its database (absent: the environment's own database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DbIdent>,
    /// The newest verified backup finished at or before this time (absent: the newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The database to restore into. It is created by the restore, or must exist empty and
    /// be the `into_environment`'s own database.
    pub into: DbIdent,
    /// The environment that owns `into`, when restoring into a provisioned environment's
    /// database (env-provisioner's `from_backup`); its owner role then owns the tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into_environment: Option<EnvName>,
}

impl TypedEvent for RestoreRequested {
    const TYPE: &'static str = types::BACKUP_RESTORE_REQUESTED;

    /// A new database is restored once per name. An environment's database is keyed on
    /// the event's id instead (env-provisioner publishes one per provisioning): a later
    /// environment of the same name must get its own restore.
    fn idempotency_key(&self) -> Option<String> {
        match self.into_environment {
            Some(_) => None,
            None => Some(format!("{}:{}", Self::TYPE, self.into.as_str())),
        }
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(env) = &self.into_environment {
            if env.database() != self.into {
                return Err(format!(
                    "into: {} is not the database of environment {}",
                    self.into.as_str(),
                    env.as_str()
                ));
            }
        }
        Ok(())
    }
}

/// `dev.groundskeeper.backup.restored.v1`: a backup was restored and counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupRestored {
    /// The environment whose backup was restored.
    pub environment: EnvName,
    /// The backup restored.
    pub backup_id: String,
    /// The database it was restored into.
    pub into: DbIdent,
    /// Tables restored, every one with its manifest's exact row count.
    pub tables: u64,
}

impl TypedEvent for BackupRestored {
    const TYPE: &'static str = types::BACKUP_RESTORED;
}

//! The dead-man's switch: which expected databases have no verified backup recent enough.
//!
//! Only a verified backup counts, and a database with no backup at all is overdue: a dump
//! that never restored, or silence, must never look like success.

use chrono::{DateTime, Duration, Utc};
use events::names::{DbIdent, EnvName};
use shared::env::{ConfigError, Env};

use crate::catalog::Catalog;

/// The recovery point objective when `BACKUP_RPO_HOURS` is unset: a nightly backup plus
/// two hours for the window, the dump and its verification.
pub const DEFAULT_RPO_HOURS: u32 = 26;

/// The RPO from `BACKUP_RPO_HOURS` (whole hours, at least 1), or [`DEFAULT_RPO_HOURS`].
pub fn rpo_from_env(env: &Env) -> Result<Duration, ConfigError> {
    match env.parse_or("BACKUP_RPO_HOURS", DEFAULT_RPO_HOURS)? {
        0 => Err(ConfigError::new(
            "BACKUP_RPO_HOURS",
            "must be at least 1 hour",
        )),
        hours => Ok(Duration::hours(hours.into())),
    }
}

/// A database whose newest verified backup is older than the RPO, or that has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    /// The environment.
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// When its newest verified backup finished; `None`: it never had one.
    pub newest_verified: Option<DateTime<Utc>>,
    /// When its newest backup of any kind finished (a failed or pending verification shows
    /// here), to tell "backups stopped" from "backups do not restore".
    pub newest: Option<DateTime<Utc>>,
}

/// Every database in `databases` whose newest verified, complete backup in `catalog`
/// finished more than `rpo` before `now`, in the order given.
pub fn overdue(
    catalog: &Catalog,
    databases: &[(EnvName, DbIdent)],
    rpo: Duration,
    now: DateTime<Utc>,
) -> Vec<Overdue> {
    databases
        .iter()
        .filter_map(|(environment, database)| {
            let of_db = catalog.backups.iter().filter(|e| {
                e.location.environment == *environment && e.location.database == *database
            });
            let newest = of_db.clone().map(|e| e.manifest.finished_at).max();
            let newest_verified = of_db
                .filter(|e| e.is_verified())
                .map(|e| e.manifest.finished_at)
                .max();
            let fresh = newest_verified.is_some_and(|at| now - at <= rpo);
            (!fresh).then(|| Overdue {
                environment: environment.clone(),
                database: database.clone(),
                newest_verified,
                newest,
            })
        })
        .collect()
}

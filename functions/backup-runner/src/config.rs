//! The runner's own settings (the runtime reads the rest), read once at start.

use std::path::PathBuf;
use std::time::Duration;

use events::names::{DbIdent, EnvName, SecretId};
use events::Tier;
use secrecy::SecretString;
use shared::env::{ConfigError, Env};

use crate::managed::ManagedConfig;
use crate::retention::RetentionPolicy;

/// A database backed up besides the environments' own, named in `EXTRA_DATABASES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraDatabase {
    /// The name its backups are filed under (`backups/{environment}/…`).
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// Its tier (drives retention).
    pub tier: Tier,
    /// The secret holding its connection URL: never a plain variable.
    pub url_secret: SecretId,
}

/// Every setting, with its variable in the README's table.
#[derive(Debug, Clone)]
pub struct Config {
    /// `MANAGED_DATABASE_URL`: the server environments' databases live on (an admin role
    /// that can read them, and create the scratch databases verification restores into).
    pub managed_database_url: Option<SecretString>,
    /// `VERIFY_DATABASE_URL`: where verification restores (default: the managed server).
    pub verify_database_url: Option<SecretString>,
    /// `EXTRA_DATABASES`: `ENV:DATABASE:TIER=SECRET_ID`, comma-separated.
    pub extra_databases: Vec<ExtraDatabase>,
    /// `BACKUP_TOPIC`: where the window's per-database requests and verifications go (this
    /// service's own subscription's topic).
    pub topic: String,
    /// `BACKUP_START_WINDOW_MINUTES`: no dump starts later than this after its window.
    pub start_window: Duration,
    /// `BACKUP_COMPLETE_WINDOW_MINUTES`: a dump still running this long after its window is
    /// cancelled.
    pub complete_window: Duration,
    /// `BACKUP_REQUEST_BUDGET_SECS`: a dump stops before the request would be cut off by
    /// Cloud Run's timeout, so it fails cleanly instead of being frozen half-way.
    pub request_budget: Duration,
    /// `BACKUP_MAX_PARALLEL`: dumps at once in one instance.
    pub max_parallel: usize,
    /// `PG_DUMP_PATH` / `PG_RESTORE_PATH`: binaries to use instead of the newest installed.
    pub pg_dump: Option<PathBuf>,
    /// See `pg_dump`.
    pub pg_restore: Option<PathBuf>,
    /// `BACKUP_RPO_HOURS`: a database whose newest verified backup is older is overdue.
    pub rpo: chrono::Duration,
    /// `RETENTION_*`: what the window's sweep keeps.
    pub retention: RetentionPolicy,
    /// `OBJECT_STORE_URL` (read by the runtime too): names backups in events.
    pub object_store_url: String,
    /// `CLOUDSQL_EXPORTS`, `REDIS_EXPORTS`, `MANAGED_EXPORT_BUCKET`: managed exports.
    pub managed: ManagedConfig,
    /// `STORAGE_EMULATOR_HOST` (read by the runtime too): the export bucket's emulator.
    pub storage_emulator_host: Option<String>,
}

const MINUTE: u64 = 60;

impl Config {
    /// Reads and checks the settings; the error names the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let minutes = |name: &str, default: u64| -> Result<Duration, ConfigError> {
            match env.parse_or(name, default)? {
                0 => Err(ConfigError::new(name, "must be at least 1 minute")),
                n => Ok(Duration::from_secs(n * MINUTE)),
            }
        };
        let start_window = minutes("BACKUP_START_WINDOW_MINUTES", 60)?;
        let complete_window = minutes("BACKUP_COMPLETE_WINDOW_MINUTES", 360)?;
        if complete_window <= start_window {
            return Err(ConfigError::new(
                "BACKUP_COMPLETE_WINDOW_MINUTES",
                "must be longer than BACKUP_START_WINDOW_MINUTES",
            ));
        }
        let max_parallel = match env.parse_or("BACKUP_MAX_PARALLEL", 2usize)? {
            n @ 1..=64 => n,
            _ => {
                return Err(ConfigError::new(
                    "BACKUP_MAX_PARALLEL",
                    "must be from 1 to 64",
                ))
            }
        };
        let rpo_hours: u64 = env.parse_or("BACKUP_RPO_HOURS", 26)?;
        if rpo_hours == 0 {
            return Err(ConfigError::new(
                "BACKUP_RPO_HOURS",
                "must be at least 1 hour",
            ));
        }
        Ok(Self {
            managed_database_url: env.optional("MANAGED_DATABASE_URL").map(SecretString::from),
            verify_database_url: env.optional("VERIFY_DATABASE_URL").map(SecretString::from),
            extra_databases: env
                .list("EXTRA_DATABASES")
                .iter()
                .map(|entry| parse_extra(entry))
                .collect::<Result<_, _>>()?,
            topic: env
                .optional("BACKUP_TOPIC")
                .unwrap_or_else(|| default_topic().to_owned()),
            start_window,
            complete_window,
            request_budget: Duration::from_secs(env.parse_or("BACKUP_REQUEST_BUDGET_SECS", 500)?),
            max_parallel,
            pg_dump: env.optional("PG_DUMP_PATH").map(PathBuf::from),
            pg_restore: env.optional("PG_RESTORE_PATH").map(PathBuf::from),
            rpo: crate::freshness::rpo_from_env(env)?,
            retention: RetentionPolicy::from_env(env)?,
            object_store_url: env.optional("OBJECT_STORE_URL").unwrap_or_default(),
            managed: ManagedConfig::from_env(env)?,
            storage_emulator_host: env.optional("STORAGE_EMULATOR_HOST"),
        })
    }

    /// The full location of an object key, e.g. `gs://bucket/backups/…`.
    pub fn location_of(&self, key: &str) -> String {
        format!("{}/{key}", self.object_store_url.trim_end_matches('/'))
    }

    /// The extra database `(environment, database)`, if configured.
    pub fn extra(&self, environment: &EnvName, database: &DbIdent) -> Option<&ExtraDatabase> {
        self.extra_databases
            .iter()
            .find(|extra| &extra.environment == environment && &extra.database == database)
    }
}

/// The registry's topic for this service.
fn default_topic() -> &'static str {
    events::platform::service("backup-runner")
        .and_then(|spec| spec.topics.first().copied())
        .unwrap_or("backup-window")
}

/// One `ENV:DATABASE:TIER=SECRET_ID` entry.
fn parse_extra(entry: &str) -> Result<ExtraDatabase, ConfigError> {
    let bad = |why: String| ConfigError::new("EXTRA_DATABASES", format!("entry {entry:?}: {why}"));
    let (names, secret) = entry
        .split_once('=')
        .ok_or_else(|| bad("expected ENV:DATABASE:TIER=SECRET_ID".into()))?;
    let mut parts = names.split(':');
    let (Some(environment), Some(database), Some(tier), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected ENV:DATABASE:TIER=SECRET_ID".into()));
    };
    Ok(ExtraDatabase {
        environment: environment.parse().map_err(|e| bad(format!("{e}")))?,
        database: database.parse().map_err(|e| bad(format!("{e}")))?,
        tier: tier.parse().map_err(|e| bad(format!("tier: {e}")))?,
        url_secret: secret.parse().map_err(|e| bad(format!("{e}")))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_platform_window() {
        let cfg = Config::from_env(&Env::from_pairs([(
            "EXTRA_DATABASES",
            "billing:ledger:prod=billing-ledger-url",
        )]))
        .expect("config");
        assert_eq!(cfg.start_window, Duration::from_secs(3600));
        assert_eq!(cfg.complete_window, Duration::from_secs(6 * 3600));
        assert_eq!(cfg.max_parallel, 2);
        assert_eq!(cfg.rpo, chrono::Duration::hours(26));
        assert_eq!(cfg.topic, "backup-window");
        let extra = &cfg.extra_databases[0];
        assert_eq!(
            (extra.environment.as_str(), extra.database.as_str()),
            ("billing", "ledger")
        );
        assert_eq!(extra.tier, Tier::Prod);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("BACKUP_MAX_PARALLEL", "0"),
            ("BACKUP_START_WINDOW_MINUTES", "0"),
            ("BACKUP_COMPLETE_WINDOW_MINUTES", "30"),
            ("BACKUP_RPO_HOURS", "soon"),
            ("EXTRA_DATABASES", "billing:ledger=url"),
            ("EXTRA_DATABASES", "../x:ledger:dev=s"),
            ("EXTRA_DATABASES", "billing:Ledger;drop:dev=s"),
            ("EXTRA_DATABASES", "billing:ledger:gold=s"),
        ] {
            let err = Config::from_env(&Env::from_pairs([(name, value)])).expect_err(value);
            assert_eq!(err.name, name, "{value}");
        }
    }
}

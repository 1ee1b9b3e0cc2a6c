//! The managed exports' settings: which Cloud SQL databases and Memorystore instances to
//! export, and where to. Every entry is checked at start; an error names the variable and
//! the entry.

use std::collections::HashMap;
use std::str::FromStr;

use events::names::DbIdent;
use shared::env::{ConfigError, Env};

use super::layout::ExportBucket;
use super::names::{check_location, check_project, check_redis_instance, check_sql_instance};

/// `CLOUDSQL_EXPORTS`: comma-separated `PROJECT:INSTANCE:DATABASE`.
pub const CLOUDSQL_EXPORTS: &str = "CLOUDSQL_EXPORTS";
/// `REDIS_EXPORTS`: comma-separated `projects/P/locations/L/instances/I`.
pub const REDIS_EXPORTS: &str = "REDIS_EXPORTS";
/// `MANAGED_EXPORT_BUCKET`: `gs://bucket[/prefix]`, required when either list is set.
pub const MANAGED_EXPORT_BUCKET: &str = "MANAGED_EXPORT_BUCKET";

/// One Cloud SQL database to export through the Admin API. Only a checked
/// `PROJECT:INSTANCE:DATABASE` makes one ([`str::parse`]), so no request or object key is
/// ever built from an unchecked name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudSqlDatabase {
    pub(super) project: String,
    pub(super) instance: String,
    pub(super) database: DbIdent,
}

impl CloudSqlDatabase {
    /// The project ID (possibly domain-scoped, `example.com:proj`).
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The instance ID, without the project.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The database.
    pub fn database(&self) -> &DbIdent {
        &self.database
    }
}

impl FromStr for CloudSqlDatabase {
    type Err = String;

    /// Parses and checks `PROJECT:INSTANCE:DATABASE`.
    fn from_str(entry: &str) -> Result<Self, String> {
        parse_cloud_sql(entry)
    }
}

/// One Memorystore for Redis instance to export; made only by parsing a checked
/// `projects/P/locations/L/instances/I` ([`str::parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisInstance {
    pub(super) project: String,
    pub(super) location: String,
    pub(super) instance: String,
}

impl FromStr for RedisInstance {
    type Err = String;

    /// Parses and checks `projects/P/locations/L/instances/I`.
    fn from_str(entry: &str) -> Result<Self, String> {
        parse_redis(entry)
    }
}

impl RedisInstance {
    /// The instance ID.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// `projects/P/locations/L/instances/I`, as the API names it.
    pub fn name(&self) -> String {
        let Self {
            project,
            location,
            instance,
        } = self;
        format!("projects/{project}/locations/{location}/instances/{instance}")
    }
}

/// Every managed export setting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManagedConfig {
    /// `CLOUDSQL_EXPORTS`.
    pub cloud_sql: Vec<CloudSqlDatabase>,
    /// `REDIS_EXPORTS`.
    pub redis: Vec<RedisInstance>,
    /// `MANAGED_EXPORT_BUCKET`; `None` only when both lists are empty.
    pub bucket: Option<ExportBucket>,
}

impl ManagedConfig {
    /// Reads and checks the three variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let cloud_sql = entries(env, CLOUDSQL_EXPORTS, parse_cloud_sql)?;
        let redis = entries(env, REDIS_EXPORTS, parse_redis)?;
        // The object key leaves the project (and Redis' location) out, so two entries that
        // differ only there would share a key and the second would pass as already done.
        unique_keys(CLOUDSQL_EXPORTS, &cloud_sql, |d| {
            format!("{}/{}", d.instance, d.database.as_str())
        })?;
        unique_keys(REDIS_EXPORTS, &redis, |r| r.instance.clone())?;
        let bucket = match env.optional(MANAGED_EXPORT_BUCKET) {
            Some(url) => Some(
                ExportBucket::parse(url.trim())
                    .map_err(|why| ConfigError::new(MANAGED_EXPORT_BUCKET, why))?,
            ),
            None if cloud_sql.is_empty() && redis.is_empty() => None,
            None => {
                return Err(ConfigError::new(
                    MANAGED_EXPORT_BUCKET,
                    format!("is required when {CLOUDSQL_EXPORTS} or {REDIS_EXPORTS} is set"),
                ))
            }
        };
        Ok(Self {
            cloud_sql,
            redis,
            bucket,
        })
    }
}

/// The entries of list `name`, each parsed; the first bad one is the error.
fn entries<T>(
    env: &Env,
    name: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    env.list(name)
        .iter()
        .map(|entry| {
            parse(entry).map_err(|why| ConfigError::new(name, format!("{entry:?}: {why}")))
        })
        .collect()
}

fn parse_cloud_sql(entry: &str) -> Result<CloudSqlDatabase, String> {
    // A domain-scoped project has a colon of its own, so split from the right.
    let mut parts = entry.rsplitn(3, ':');
    let (Some(database), Some(instance), Some(project)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err("expected PROJECT:INSTANCE:DATABASE".into());
    };
    check_project(project)?;
    check_sql_instance(instance)?;
    Ok(CloudSqlDatabase {
        project: project.to_owned(),
        instance: instance.to_owned(),
        database: database.parse().map_err(|e| format!("database: {e}"))?,
    })
}

fn parse_redis(entry: &str) -> Result<RedisInstance, String> {
    let parts: Vec<&str> = entry.split('/').collect();
    let ["projects", project, "locations", location, "instances", instance] = parts[..] else {
        return Err("expected projects/PROJECT/locations/LOCATION/instances/INSTANCE".into());
    };
    check_project(project)?;
    check_location(location)?;
    check_redis_instance(instance)?;
    Ok(RedisInstance {
        project: project.to_owned(),
        location: location.to_owned(),
        instance: instance.to_owned(),
    })
}

/// Refuses two entries of `name` whose objects would share a key.
fn unique_keys<T>(
    name: &str,
    entries: &[T],
    key: impl Fn(&T) -> String,
) -> Result<(), ConfigError> {
    let mut seen = HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        if let Some(first) = seen.insert(key(entry), index) {
            return Err(ConfigError::new(
                name,
                format!(
                    "entries {} and {} export to the same object name",
                    first + 1,
                    index + 1
                ),
            ));
        }
    }
    Ok(())
}

//! Environments' databases on PostgreSQL (the local scale targets): suspended with
//! `CONNECTION LIMIT 0` and their idle sessions ended; restored to the recorded limit.
//!
//! `CONNECTION LIMIT 0` rather than `ALLOW_CONNECTIONS false`: PostgreSQL exempts
//! superusers from the connection limit, but `datallowconn = false` refuses everyone,
//! the platform's admin included, which would lock backup-runner's dumps and
//! env-provisioner's teardown out of a suspended environment. Both values are recorded,
//! so a change to either while suspended is a conflict.

use std::collections::BTreeMap;

use async_trait::async_trait;
use events::names::DbIdent;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::{Backend, BackendError, Change, Restored};

mod sql;

use sql::{alter, fetch, terminate_idle};

/// Only these databases are ever touched: the environments' own (`env_<name>`).
pub const ENV_DATABASE_PREFIX: &str = "env_";

/// What budget-guard records of a database (`pg_database`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// `datallowconn`.
    pub allow_connections: bool,
    /// `datconnlimit` (-1: no limit).
    pub connection_limit: i32,
}

/// Environments' databases in one cluster; `name` is the database name (`env_<name>`).
#[derive(Debug, Clone)]
pub struct Databases {
    admin: PgPool,
}

impl Databases {
    /// Over a pool of the platform's admin role (connected to any other database: a
    /// session inside the suspended database is not needed).
    pub fn new(admin: PgPool) -> Self {
        Self { admin }
    }

    async fn begin(
        &self,
        name: &str,
    ) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, BackendError> {
        (self.admin.begin().await).map_err(|e| sql::error(name, "begin", &e))
    }
}

/// The database name as an identifier, refused unless it is an environment's database.
fn env_database(name: &str) -> Result<DbIdent, BackendError> {
    let refused = |reason: String| BackendError::Refused {
        resource: name.escape_debug().to_string(),
        reason,
    };
    let ident: DbIdent = name.parse().map_err(|e| refused(format!("{e}")))?;
    if !name.starts_with(ENV_DATABASE_PREFIX) {
        return Err(refused(format!(
            "not an environment's database ({ENV_DATABASE_PREFIX}<name>); budget-guard leaves it alone"
        )));
    }
    Ok(ident)
}

#[async_trait]
impl Backend for Databases {
    type Settings = DatabaseSettings;

    async fn read(&self, name: &str) -> Result<DatabaseSettings, BackendError> {
        let db = env_database(name)?;
        let mut conn = (self.admin.acquire().await).map_err(|e| sql::error(name, "connect", &e))?;
        fetch(&mut conn, &db).await
    }

    /// Either level suspends: limit 0, then the idle sessions of other roles than the
    /// admin's are ended (again on a redelivery, in case the first one stopped between).
    async fn apply(
        &self,
        name: &str,
        expected: &DatabaseSettings,
        _change: &Change,
    ) -> Result<DatabaseSettings, BackendError> {
        let db = env_database(name)?;
        let target = DatabaseSettings {
            connection_limit: 0,
            ..*expected
        };
        let mut tx = self.begin(name).await?;
        let current = fetch(&mut tx, &db).await?;
        if current != target {
            if current != *expected {
                return Err(BackendError::changed(name, &current));
            }
            alter(&mut tx, &db, current, &target).await?;
        }
        (tx.commit().await).map_err(|e| sql::error(name, "commit", &e))?;
        terminate_idle(&self.admin, &db).await?;
        Ok(target)
    }

    async fn restore(
        &self,
        name: &str,
        previous: &DatabaseSettings,
        applied: &DatabaseSettings,
    ) -> Result<Restored<DatabaseSettings>, BackendError> {
        let db = env_database(name)?;
        let mut tx = self.begin(name).await?;
        let current = fetch(&mut tx, &db).await?;
        if current == *previous {
            return Ok(Restored::Done);
        }
        if current != *applied {
            return Ok(Restored::Conflict { found: current });
        }
        alter(&mut tx, &db, current, previous).await?;
        (tx.commit().await).map_err(|e| sql::error(name, "commit", &e))?;
        Ok(Restored::Done)
    }

    /// PostgreSQL databases carry no labels: the protection rule takes an environment
    /// database's labels from the environment's record.
    fn labels(&self, _settings: &DatabaseSettings) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    fn planned(&self, current: &DatabaseSettings, _change: &Change) -> DatabaseSettings {
        DatabaseSettings {
            connection_limit: 0,
            ..*current
        }
    }
}

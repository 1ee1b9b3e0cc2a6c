//! What to back up: the live environments' databases (read through env-provisioner's
//! inventory, never its tables) and the extra databases of the configuration.

use events::names::{DbIdent, EnvName};
use events::Tier;
use secrecy::SecretString;
use shared::Ctx;

use crate::config::Config;
use crate::dump::Target;
use crate::error::BackupError;

/// One database to back up, and how to reach it.
pub struct Source {
    /// The environment its backups are filed under.
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// The tier (drives retention).
    pub tier: Tier,
    /// The connection.
    pub target: Target,
}

/// Every database a window backs up: `(environment, database)` of each ready environment,
/// then each extra database.
pub async fn all(
    ctx: &Ctx,
    config: &Config,
) -> Result<Vec<(EnvName, Option<DbIdent>)>, BackupError> {
    let environments = env_provisioner::inventory::list(ctx.control_db()?).await?;
    let mut found: Vec<(EnvName, Option<DbIdent>)> = environments
        .iter()
        .filter(|env| env.is_ready())
        // A stored name that no longer parses cannot be filed safely; it is logged, not guessed.
        .filter_map(|env| match env.name.parse::<EnvName>() {
            Ok(name) => Some((name, None)),
            Err(e) => {
                tracing::warn!(environment = %env.name, error = %e, "not backed up: invalid stored name");
                None
            }
        })
        .collect();
    found.extend(
        config
            .extra_databases
            .iter()
            .map(|extra| (extra.environment.clone(), Some(extra.database.clone()))),
    );
    Ok(found)
}

/// The database to back up for a request, or `None` when there is nothing to back up (an
/// environment that does not exist or is not ready).
pub async fn resolve(
    ctx: &Ctx,
    config: &Config,
    environment: &EnvName,
    database: Option<&DbIdent>,
) -> Result<Option<Source>, BackupError> {
    if let Some(database) = database {
        let Some(extra) = config.extra(environment, database) else {
            return Err(BackupError::Rejected(format!(
                "database {} of {} is not in EXTRA_DATABASES; only configured databases are backed up",
                database.as_str(),
                environment.as_str()
            )));
        };
        let url = ctx
            .secrets()?
            .access(extra.url_secret.as_str(), "latest")
            .await
            .map_err(|e| {
                transient_or_rejected(
                    e.is_retryable(),
                    format!("secret {}: {e}", extra.url_secret.as_str()),
                )
            })?;
        return Ok(Some(Source {
            environment: environment.clone(),
            database: database.clone(),
            tier: extra.tier,
            target: target_on(&url, database, extra.url_secret.as_str())?,
        }));
    }
    let Some(env) = env_provisioner::inventory::get(ctx.control_db()?, environment).await? else {
        return Ok(None);
    };
    if !env.is_ready() {
        return Ok(None);
    }
    let url = config
        .managed_database_url
        .as_ref()
        .ok_or(shared::MissingBackend {
            backend: "the managed database server",
            variable: "MANAGED_DATABASE_URL",
        })?;
    let database = environment.database();
    Ok(Some(Source {
        target: target_on(url, &database, "MANAGED_DATABASE_URL")?,
        environment: environment.clone(),
        database,
        tier: env.tier,
    }))
}

fn target_on(url: &SecretString, database: &DbIdent, from: &str) -> Result<Target, BackupError> {
    Target::on_server(url, database.as_str())
        .map_err(|why| BackupError::Rejected(format!("{from}: {why}")))
}

fn transient_or_rejected(retryable: bool, reason: String) -> BackupError {
    if retryable {
        BackupError::Transient {
            subject: "extra database".into(),
            step: crate::error::BackupStep::Dump,
            reason,
        }
    } else {
        BackupError::Rejected(reason)
    }
}

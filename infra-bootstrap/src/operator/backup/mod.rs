//! `groundskeeper backup …`: ask backup-runner for a backup or a restore (published to its
//! `backup-window` topic), list the catalog, preview retention.
//!
//! `list` and `retention` only read the object store, through backup-runner's own catalog
//! and retention plan, so they show exactly what the service sees and would do. The CLI
//! never deletes a backup: retention runs in the service's window.

mod list;
mod objects;
mod retention;

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use events::backup::{BackupRequested, RestoreRequested};
use events::names::{DbIdent, EnvName};
use events::TypedEvent;

pub use list::{catalogued, list_table, Listed};
pub use objects::open_store;
pub use retention::retention_table;

use super::publish;
use super::target::Target;
use crate::output::Output;

/// `groundskeeper backup …`.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back up one environment's database now (no ENV: every managed database); prints the
    /// message id. There is no `--wait`: the outcome is an event on the events topic, which
    /// `env wait`'s control-state polling does not see; `backup list` shows the result.
    Now {
        environment: Option<EnvName>,
        /// One of the environment's databases configured in backup-runner's EXTRA_DATABASES.
        #[arg(long, requires = "environment")]
        database: Option<DbIdent>,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// The environment's backups from the object store: id, finished, size, verified, key.
    List {
        environment: EnvName,
        /// Only this database (default: all of the environment's).
        #[arg(long)]
        database: Option<DbIdent>,
        #[command(flatten)]
        objects: objects::ObjectsArg,
    },
    /// Restore the newest verified backup finished at or before `--at` into a new database;
    /// prints the message id.
    Restore {
        environment: EnvName,
        /// RFC 3339, e.g. `2026-01-31T02:00:00Z`.
        #[arg(long, value_parser = rfc3339)]
        at: DateTime<Utc>,
        /// The new database to restore into.
        #[arg(long)]
        into: DbIdent,
        /// The environment whose own, empty database `--into` is.
        #[arg(long)]
        into_environment: Option<EnvName>,
        /// The environment's database to restore (default: its own).
        #[arg(long)]
        database: Option<DbIdent>,
    },
    /// With `--dry-run`: what retention deletes and keeps (with why), under the RETENTION_*
    /// variables of this shell (the service's defaults when unset). Never deletes.
    Retention {
        /// Only this environment's backups.
        environment: Option<EnvName>,
        /// Print the plan; required, since the CLI never deletes.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        objects: objects::ObjectsArg,
    },
}

/// Runs a `backup` command; publishing ones find the bus as the other commands do.
pub async fn run(command: BackupCommand, out: Output) -> anyhow::Result<ExitCode> {
    let env = shared::env::Env::from_process();
    let cwd = std::env::current_dir()?;
    match command {
        BackupCommand::Now {
            environment,
            database,
            reason,
        } => {
            let request = BackupRequested {
                environment,
                database,
                window: None,
                reason,
            };
            request_to_runner(&request, &env, &cwd, out).await?;
        }
        BackupCommand::Restore {
            environment,
            at,
            into,
            into_environment,
            database,
        } => {
            let request = RestoreRequested {
                environment,
                database,
                at: Some(at),
                into,
                into_environment,
            };
            request_to_runner(&request, &env, &cwd, out).await?;
        }
        BackupCommand::List {
            environment,
            database,
            objects,
        } => {
            let store = objects.open(&env, &cwd).await?;
            list::list(store.as_ref(), environment, database, out).await?;
        }
        BackupCommand::Retention {
            environment,
            dry_run,
            objects,
        } => {
            anyhow::ensure!(
                dry_run,
                "the CLI never deletes backups: backup-runner applies retention in the backup \
                 window; `backup retention --dry-run` shows what it will delete"
            );
            let store = objects.open(&env, &cwd).await?;
            retention::dry_run(store.as_ref(), environment, &env, out).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Publishes `request` on the bus the CLI finds (as every other command does); prints the
/// message id.
async fn request_to_runner<T: TypedEvent>(
    request: &T,
    env: &shared::env::Env,
    cwd: &std::path::Path,
    out: Output,
) -> anyhow::Result<()> {
    let target = Target::discover(env, cwd).await?;
    let id = publish::send_typed(&target.publisher()?, request).await?;
    super::sent(out, &id, T::TYPE)
}

/// `--at`: strictly RFC 3339 (chrono's `FromStr` would take other forms too).
fn rfc3339(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time (e.g. 2026-01-31T02:00:00Z): {e}"))
}

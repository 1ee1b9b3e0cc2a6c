//! The command line's shape. Names and tiers are parsed by the `events` types, so a bad one
//! is refused before anything is contacted, with the same message the service would give.

use std::path::PathBuf;

use clap::{ArgGroup, Parser, Subcommand};
use events::names::{EnvName, SecretId};
use events::{HumanDuration, Tier};

use super::wait::Until;
use crate::output::Output;

/// Request environments, wait for them, read their credentials, publish groundskeeper events.
///
/// Talks to the local stack when one is running (its state file, see `local`), otherwise to
/// Google Cloud: GOOGLE_CLOUD_PROJECT, application default credentials, DATABASE_URL for the
/// control database, SECRET_STORE=secret-manager for credentials in Secret Manager.
#[derive(Debug, Parser)]
#[command(name = "groundskeeper", version)]
pub struct Cli {
    /// `table` for people, `json` for machines.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Environments: request, wait, use, tear down.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Secrets: rotate now.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Backups: back up now, list, restore into a new database, preview retention.
    #[command(subcommand)]
    Backup(super::backup::BackupCommand),
    /// Budgets: what budget-guard holds suspended, resume early.
    #[command(subcommand)]
    Budget(super::budget::BudgetCommand),
    /// Publish any of our event types from a JSON file to its topic.
    Publish(PublishArgs),
    /// The whole stack on this machine: up, demo, status, logs, down.
    #[command(subcommand)]
    Local(super::local::LocalCommand),
}

/// `groundskeeper env …`.
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Ask for an environment; prints the message id.
    Request(RequestArgs),
    /// Ask for an environment's removal; prints the message id.
    Teardown {
        name: EnvName,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
    /// The environments in the control state.
    List {
        /// Include deleted environments.
        #[arg(long)]
        all: bool,
    },
    /// Block until the environment is ready (exit 0), or failed or its request refused (exit
    /// 1, the reason on stderr), or deleted with `--for deleted`; exit 124 on timeout.
    /// Progress goes to stderr.
    Wait {
        name: EnvName,
        /// Give up after this long (`90s`, `5m`).
        #[arg(long, default_value = "60s")]
        timeout: HumanDuration,
        /// What to wait for.
        #[arg(long = "for", value_enum, default_value_t = Until::Ready)]
        r#for: Until,
        /// Follow exactly this request (its id, as `env request` prints it): ready, failed
        /// or refused. Without it, a refusal of the name counts when it is newer than the
        /// environment's row.
        #[arg(long, conflicts_with = "for")]
        request: Option<String>,
    },
    /// Print the connection URL from the credentials secret's `current` version. The only
    /// command that shows a secret.
    Credentials {
        name: EnvName,
        /// The environment's tier, when the control database is out of reach.
        #[arg(long)]
        tier: Option<Tier>,
    },
}

/// `groundskeeper env request`.
#[derive(Debug, clap::Args)]
pub struct RequestArgs {
    /// 1-30 lowercase letters, digits and hyphens, starting with a letter.
    pub name: EnvName,
    /// Who asks: your email or the CI identity.
    #[arg(long)]
    pub owner: String,
    /// `ephemeral`, `dev` or `staging`.
    #[arg(long, default_value = "ephemeral")]
    pub tier: Tier,
    /// How long it lives (`48h`); ephemeral defaults to 72h on the service side.
    #[arg(long)]
    pub ttl: Option<HumanDuration>,
    /// A label `key=value` for everything created (repeatable).
    #[arg(long, value_parser = pair)]
    pub label: Vec<(String, String)>,
    /// A container image to run as the environment's Cloud Run preview service.
    #[arg(long)]
    pub image: Option<String>,
    /// An environment variable `KEY=value` for the preview service (repeatable).
    #[arg(long, value_parser = pair)]
    pub env: Vec<(String, String)>,
    /// Then wait for this very request as `env wait --request` does: exit 0 ready, 1 failed
    /// or refused (the reason on stderr), 124 timed out.
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits (`90s`, `5m`).
    #[arg(long, default_value = "60s", requires = "wait")]
    pub timeout: HumanDuration,
}

/// `groundskeeper secret …`.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Rotate a secret now (by its id, or an environment's credentials); prints the message id.
    #[command(group(ArgGroup::new("what").required(true).args(["secret", "environment"])))]
    Rotate {
        /// The secret id, e.g. `dev-shop-db-credentials`.
        secret: Option<SecretId>,
        /// Rotate this environment's credentials secret instead.
        #[arg(long)]
        environment: Option<EnvName>,
        /// Why, for the record.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// `groundskeeper publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The event type, full (`dev.groundskeeper.environment.requested.v1`) or short
    /// (`environment.requested`).
    #[arg(long = "type")]
    pub r#type: String,
    /// The JSON payload.
    #[arg(long)]
    pub file: PathBuf,
    /// Publish to this topic instead of the type's own.
    #[arg(long)]
    pub topic: Option<String>,
    /// Publish the file as it is, without checking it against its type (to see a bad
    /// event dead-lettered).
    #[arg(long)]
    pub raw: bool,
}

fn pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

//! The `groundskeeper` command line: parse, find the target, dispatch.
//!
//! Commands print their result on stdout (a message id, a table, a URL) and progress on
//! stderr, so `ID=$(groundskeeper env request …)` works in a pipeline. `local` (the local
//! stack, issue 6) joins [`Command`] as one more subcommand; it writes the state file that
//! [`target::Target::discover`] reads ([`stack`]).

mod args;
pub mod backup;
pub mod budget;
pub mod env;
pub mod local;
pub mod publish;
mod request;
pub mod stack;
pub mod target;
pub mod wait;

use std::process::ExitCode;

use anyhow::Context as _;
use events::environment::TeardownRequested;
use events::rotation::RotationRequested;
use events::TypedEvent;
use secrecy::ExposeSecret;
use shared::backends::publisher::Publisher;

pub use args::{Cli, Command, EnvCommand, PublishArgs, RequestArgs, SecretCommand};

use crate::output::{self, Output};

/// Runs one command; the exit code says how it went (see `env wait`).
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = match cli.command {
        // Before the target: `local` makes (or reads) the stack the target would be found in.
        Command::Local(local) => return local::run(local, cli.output).await,
        // Reading backups needs only the object store, not the bus or the control database.
        Command::Backup(backup) => return backup::run(backup, cli.output).await,
        other => other,
    };
    let env = shared::env::Env::from_process();
    let cwd = std::env::current_dir().context("the current directory")?;
    let target = target::Target::discover(&env, &cwd).await?;
    match command {
        Command::Env(EnvCommand::Request(args)) => {
            return request::request(&target, args, cli.output).await;
        }
        Command::Env(EnvCommand::Teardown { name, reason }) => {
            let request = TeardownRequested { name, reason };
            let id = publish::send_typed(&target.publisher()?, &request).await?;
            sent(cli.output, &id, TeardownRequested::TYPE)?;
        }
        Command::Env(EnvCommand::List { all }) => {
            env::list(&target.control_db().await?, all, cli.output).await?;
        }
        Command::Env(EnvCommand::Wait {
            name,
            timeout,
            r#for,
            request,
        }) => {
            let pool = target.control_db().await?;
            let request = request.as_deref();
            return wait::wait(&pool, &name, r#for, timeout.to_std(), request).await;
        }
        Command::Env(EnvCommand::Credentials { name, tier }) => {
            let secret = match tier {
                Some(tier) => name.secret_id(tier),
                None => env::credentials_secret(&target.control_db().await?, &name).await?,
            };
            let json = target
                .secrets()
                .await?
                .access(secret.as_str(), "current")
                .await?;
            println!("{}", env::connection_url(&json)?.expose_secret());
        }
        Command::Secret(SecretCommand::Rotate {
            secret,
            environment,
            reason,
        }) => {
            let request = RotationRequested {
                secret,
                environment,
                reason,
            };
            let id = publish::send_typed(&target.publisher()?, &request).await?;
            sent(cli.output, &id, RotationRequested::TYPE)?;
        }
        Command::Publish(a) => {
            let data =
                std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
            let (ty, topic, check) = publish::route(&a.r#type)?;
            if !a.raw {
                check(events::RawEvent::bare(ty, data.clone()))
                    .map_err(|e| anyhow::anyhow!("not published: {e}"))?;
            }
            let topic = a.topic.as_deref().unwrap_or(topic);
            let publisher: &dyn Publisher = &target.publisher()?;
            let id = publish::send(publisher, topic, ty, data).await?;
            sent(cli.output, &id, ty)?;
        }
        Command::Budget(budget) => {
            budget::run(&target, budget, env.optional("USER"), cli.output).await?;
        }
        Command::Local(_) | Command::Backup(_) => unreachable!("dispatched above"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the message id (table) or `{"message_id", "type"}` (json).
fn sent(out: Output, message_id: &str, ty: &str) -> anyhow::Result<()> {
    let value = serde_json::json!({ "message_id": message_id, "type": ty });
    output::print(out, &value, |_| format!("{message_id}\n"))
}

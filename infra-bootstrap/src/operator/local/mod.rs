//! `groundskeeper local …`: the whole stack on this machine — the Pub/Sub emulator, a
//! private PostgreSQL cluster, every service, the plumbing applied by the bootstrap, the
//! local scheduler — with its data, logs and state file under `.state/local/` (or
//! `$GROUNDSKEEPER_STATE_DIR`), and a scripted tour of what it does.

mod components;
mod down;
mod plumbing;
mod postgres;
mod process;
mod scheduler;
mod status;
mod tools;
mod tour;
mod up;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::stack::{self, STATE_DIR};
use crate::output::Output;

pub use components::SERVICES;
pub use plumbing::WATCH_SUBSCRIPTION;
pub use process::group_is_alive;

/// `groundskeeper local …`.
#[derive(Debug, Subcommand)]
pub enum LocalCommand {
    /// Start the stack and return once everything answers.
    Up(UpArgs),
    /// Start the stack unless it runs, then take the scripted tour; it stays up afterwards.
    Demo(UpArgs),
    /// Each component with its address, process id and whether it is alive.
    Status,
    /// Print a component's log (a service, `pubsub-emulator`, `postgres` or `scheduler`).
    Logs {
        service: String,
        /// Keep printing what is appended, until interrupted.
        #[arg(long, short)]
        follow: bool,
    },
    /// Stop every process of the stack and remove its state directory.
    Down,
    /// (internal) Run the manifest's scheduler jobs; `up` starts it as a child process.
    #[command(hide = true)]
    Scheduler {
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long)]
        emulator_host: String,
    },
}

/// How `up` picks ports.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    /// Any free ports, not the usual ones (8081+ for the services, 8085 for the emulator,
    /// 5432 for PostgreSQL) — for running several stacks side by side.
    #[arg(long)]
    pub free_ports: bool,
}

/// Runs a `local` command.
pub async fn run(command: LocalCommand, out: Output) -> anyhow::Result<ExitCode> {
    let env = shared::env::Env::from_process();
    let cwd = std::env::current_dir()?;
    let dir = state_dir(env.optional("GROUNDSKEEPER_STATE_DIR").as_deref(), &cwd);
    match command {
        LocalCommand::Up(args) => up::up(&dir, &args).await.map(|_| ()),
        LocalCommand::Demo(args) => {
            let state = match up::running(&dir)? {
                Some(state) => {
                    eprintln!(
                        "groundskeeper: using the stack running in {}",
                        dir.display()
                    );
                    state
                }
                None => up::up(&dir, &args).await?,
            };
            tour::run(&state).await?;
            tour::usage(&dir);
            Ok(())
        }
        LocalCommand::Status => status::status(&dir, out).await,
        LocalCommand::Logs { service, follow } => status::logs(&dir, &service, follow).await,
        LocalCommand::Down => down::down(&dir),
        LocalCommand::Scheduler {
            manifest,
            emulator_host,
        } => scheduler::run(&manifest, &emulator_host).await,
    }?;
    Ok(ExitCode::SUCCESS)
}

/// `$GROUNDSKEEPER_STATE_DIR` (relative to `cwd`), else the `.state/local` of the nearest
/// directory upwards that has one, else of the checkout's root (the nearest directory with
/// a `Cargo.lock` or `.git`), else of `cwd`.
pub fn state_dir(variable: Option<&str>, cwd: &Path) -> PathBuf {
    if let Some(dir) = variable {
        return cwd.join(dir);
    }
    if let Some(file) = stack::locate(None, cwd) {
        if let Some(dir) = file.parent() {
            return dir.to_owned();
        }
    }
    let root = cwd
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file() || d.join(".git").exists())
        .unwrap_or(cwd);
    root.join(STATE_DIR)
}

/// `<state>/logs/<name>.log`.
fn log_file(dir: &Path, name: &str) -> PathBuf {
    dir.join("logs").join(format!("{name}.log"))
}

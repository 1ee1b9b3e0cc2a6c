//! `groundskeeper local …`: the whole stack on this machine — the Pub/Sub emulator, a
//! private PostgreSQL cluster, every service, the plumbing applied by the bootstrap, the
//! local scheduler — with its data, logs and state file under `.state/local/` (or
//! `$GROUNDSKEEPER_STATE_DIR`), and a scripted tour of what it does.
//!
//! Which services run, on which port, with which settings, comes from the service registry
//! (`events::platform`); the components are started by `local-components`, the launcher the
//! test harness uses too.

mod components;
mod down;
mod lifecycle;
mod plumbing;
mod postgres;
mod scheduler;
pub mod settings;
mod status;
mod tour;
mod up;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::stack::{self, STATE_DIR};
use crate::output::Output;

pub use local_components::process::group_is_alive;
pub use plumbing::WATCH_SUBSCRIPTION;

// The launcher's modules, under the names the stack's modules use.
use local_components::{ports, process, ready};

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
    /// Stop one component (a service, `postgres`, `pubsub-emulator`, `scheduler`); the rest
    /// keeps running. For fault drills.
    Stop { component: String },
    /// Start one stopped or killed component again (a service as a new instance; the
    /// emulator empty, with the plumbing applied again).
    Start {
        component: String,
        /// A service's variable for this instance: `SERVICE:VAR=VALUE`, as for `up`.
        #[arg(long = "set", value_name = "SERVICE:VAR=VALUE")]
        set: Vec<String>,
    },
    /// (internal) Run the manifest's scheduler jobs; `up` starts it as a child process.
    #[command(hide = true)]
    Scheduler {
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long)]
        emulator_host: String,
    },
}

/// How `up` picks ports, and the person's settings for the services.
///
/// Services start from a clean environment (PATH, HOME, RUST_LOG, RUST_BACKTRACE and TZ are
/// kept), so a stray GOOGLE_* variable in your shell cannot make the local stack call Google;
/// they get the registry's local settings, your `--set`s, and the stack's plumbing.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    /// Any free ports, not the usual ones (8081+ for the services, 8085 for the emulator,
    /// 5432 for PostgreSQL) — for running several stacks side by side.
    #[arg(long)]
    pub free_ports: bool,
    /// Set (or override) a service's variable: `SERVICE:VAR=VALUE`, repeatable, e.g.
    /// `--set secret-rotator:RUST_LOG=debug`. The plumbing the stack owns (PORT, DATABASE_URL,
    /// MANAGED_DATABASE_URL, PUBSUB_EMULATOR_HOST, OBJECT_STORE_URL, SECRET_STORE,
    /// EVENTS_TOPIC, DEAD_LETTER_TOPIC, LISTEN_ADDRESS, LOG_FORMAT, K_SERVICE, GOOGLE_*) cannot
    /// be set. Everything else of your shell is left out (see above).
    // Checked by `settings::parse_all`, not by clap: clap would echo a refused value, and a
    // value may be a secret.
    #[arg(long = "set", value_name = "SERVICE:VAR=VALUE")]
    pub set: Vec<String>,
}

/// Runs a `local` command.
pub async fn run(command: LocalCommand, out: Output) -> anyhow::Result<ExitCode> {
    let env = shared::env::Env::from_process();
    let cwd = std::env::current_dir()?;
    let dir = state_dir(env.optional("GROUNDSKEEPER_STATE_DIR").as_deref(), &cwd);
    if let LocalCommand::Up(args) | LocalCommand::Demo(args) = &command {
        // Before anything starts (or a running stack is reused).
        settings::parse_all(&args.set)?;
    }
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
        LocalCommand::Stop { component } => lifecycle::stop(&dir, &component),
        LocalCommand::Start { component, set } => lifecycle::start(&dir, &component, &set).await,
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

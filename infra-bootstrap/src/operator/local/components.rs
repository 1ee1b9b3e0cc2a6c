//! The services of the stack: every built service of the registry (`events::platform`), as
//! the binary of the same name next to this executable, each in its own process group with
//! its log under `<state>/logs/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use events::platform::{self, ServiceSpec};
use local_components::process::{pgid, spawn_group, Log};

use super::settings::{self, Setting};

/// What every service is told (besides `PORT` and `DEAD_LETTER_TOPIC`).
pub struct ServiceEnv {
    /// `GOOGLE_CLOUD_PROJECT`.
    pub project: String,
    /// `PUBSUB_EMULATOR_HOST`.
    pub emulator_host: String,
    /// `DATABASE_URL`: the control database.
    pub database_url: String,
    /// `MANAGED_DATABASE_URL`: the cluster's superuser.
    pub admin_url: String,
    /// `OBJECT_STORE_URL`.
    pub object_store_url: String,
    /// `EVENTS_TOPIC`.
    pub events_topic: String,
}

/// Every built service with its binary next to this executable (the same cargo target
/// directory), or an error naming the missing ones and the command that builds them.
pub fn service_binaries() -> anyhow::Result<Vec<(&'static ServiceSpec, PathBuf)>> {
    let exe = std::env::current_exe().context("locating this executable")?;
    let dir = exe.parent().context("this executable has no directory")?;
    let found: Vec<_> = platform::built()
        .map(|spec| (spec, dir.join(spec.name)))
        .collect();
    let missing: Vec<&str> = found
        .iter()
        .filter(|(_, path)| !path.is_file())
        .map(|(spec, _)| spec.name)
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "{} not built next to {}; build them with `cargo build {} --bins` (or run `make demo`)",
        missing.join(", "),
        exe.display(),
        platform::built()
            .map(|spec| format!("-p {}", spec.name))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(found)
}

/// Runs `BINARY migrate` against the control database, as a deploy does (services do not
/// migrate at start). Each service's `migrate` migrates shared's tables and its own, so the
/// stack runs every service's, one after the other.
pub fn migrate(binary: &Path, database_url: &str, log: &Path) -> anyhow::Result<()> {
    let mut command = Command::new(binary);
    command
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", database_url);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let status = spawn_group("migrate", command, log, Log::Append)?
        .wait()
        .with_context(|| format!("running {} migrate", binary.display()))?;
    anyhow::ensure!(
        status.success(),
        "migrating the control database with {} failed ({status}); see {}",
        binary.display(),
        log.display()
    );
    Ok(())
}

/// Starts one service on `port`; returns its pgid (it answers on `/healthz` when ready).
///
/// The environment is built from nothing: a few variables of the person's shell that
/// cannot point a service elsewhere, the registry's local settings and the person's `--set`s
/// for this service, then the plumbing (which always wins). A stray `GOOGLE_*` variable in
/// the shell never reaches a service, so the stack cannot call Google.
pub fn spawn_service(
    spec: &ServiceSpec,
    binary: &Path,
    port: u16,
    env: &ServiceEnv,
    sets: &[Setting],
    log: &Path,
) -> anyhow::Result<u32> {
    let mut command = Command::new(binary);
    command.env_clear();
    for keep in ["PATH", "HOME", "RUST_LOG", "RUST_BACKTRACE", "TZ"] {
        if let Some(value) = std::env::var_os(keep) {
            command.env(keep, value);
        }
    }
    command.envs(settings::for_service(spec.name, sets));
    command
        .env("GOOGLE_CLOUD_PROJECT", &env.project)
        .env("PUBSUB_EMULATOR_HOST", &env.emulator_host)
        .env("DATABASE_URL", &env.database_url)
        .env("MANAGED_DATABASE_URL", &env.admin_url)
        .env("OBJECT_STORE_URL", &env.object_store_url)
        .env("SECRET_STORE", "local")
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .env("EVENTS_TOPIC", &env.events_topic)
        .env("DEAD_LETTER_TOPIC", format!("{}-dead-letter", spec.name));
    Ok(pgid(&spawn_group(spec.name, command, log, Log::Append)?))
}

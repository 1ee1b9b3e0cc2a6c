//! Starting the emulator and the services, each in its own process group with its log
//! under `<state>/logs/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;

use super::process::{spawn_group, wait_ready};

/// The services the local stack runs (each a binary of the same name). A new service
/// joins here when it lands; the manifest's others are left out of the local plumbing.
pub const SERVICES: &[&str] = &["env-provisioner", "secret-rotator"];

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

/// The binaries next to this executable (the same cargo target directory), or an error
/// saying how to build the missing ones.
pub fn service_binaries() -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
    let exe = std::env::current_exe().context("locating this executable")?;
    let dir = exe.parent().context("this executable has no directory")?;
    let found: Vec<_> = SERVICES.iter().map(|s| (*s, dir.join(s))).collect();
    let missing: Vec<&str> = found
        .iter()
        .filter(|(_, path)| !path.is_file())
        .map(|(s, _)| *s)
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "{} not built next to {}; build them with `cargo build {} --bins` (or run `make demo`)",
        missing.join(", "),
        exe.display(),
        SERVICES
            .iter()
            .map(|s| format!("-p {s}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(found)
}

/// Starts the official emulator on `port` with its data under `dir`; returns its pgid
/// (see [`await_http`] for when it answers).
pub fn spawn_emulator(
    gcloud: &Path,
    project: &str,
    port: u16,
    dir: &Path,
    log: &Path,
) -> anyhow::Result<u32> {
    std::fs::create_dir_all(dir)?;
    let mut command = Command::new(gcloud);
    command
        .args(["beta", "emulators", "pubsub", "start", "--quiet"])
        .arg(format!("--host-port=127.0.0.1:{port}"))
        .arg(format!("--project={project}"))
        .arg(format!("--data-dir={}", dir.display()));
    spawn_group("the Pub/Sub emulator", command, log)
}

/// Waits until `url` answers 2xx (the emulator's `/`, a service's `/healthz`).
pub async fn await_http(
    name: &str,
    pgid: u32,
    url: &str,
    log: &Path,
    timeout: Duration,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    wait_ready(name, pgid, log, timeout, || {
        let request = http.get(url).timeout(Duration::from_secs(2)).send();
        async move { matches!(request.await, Ok(r) if r.status().is_success()) }
    })
    .await
}

/// Runs `BINARY migrate` against the control database once, as a deploy does: services no
/// longer migrate at start. Every service binary carries the same migrations, so one is enough.
pub fn migrate(binary: &Path, database_url: &str, log: &Path) -> anyhow::Result<()> {
    let mut command = Command::new(binary);
    command
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", database_url);
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let out = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let status = command
        .stdout(out.try_clone()?)
        .stderr(out)
        .status()
        .with_context(|| format!("running {} migrate", binary.display()))?;
    anyhow::ensure!(
        status.success(),
        "migrating the control database failed ({status}); see {}",
        log.display()
    );
    Ok(())
}

/// Starts one service on `port`; returns its pgid (it answers on `/healthz` when ready).
pub fn spawn_service(
    name: &str,
    binary: &Path,
    port: u16,
    env: &ServiceEnv,
    log: &Path,
) -> anyhow::Result<u32> {
    let mut command = Command::new(binary);
    // Only what we decide, plus the few variables of the user's shell that make sense
    // (a RUST_LOG filter): nothing else of the shell may point a service elsewhere.
    command.env_clear();
    for keep in ["PATH", "HOME", "RUST_LOG", "RUST_BACKTRACE", "TZ"] {
        if let Some(value) = std::env::var_os(keep) {
            command.env(keep, value);
        }
    }
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
        .env("DEAD_LETTER_TOPIC", format!("{name}-dead-letter"));
    spawn_group(name, command, log)
}

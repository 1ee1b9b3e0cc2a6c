//! A local stack for the CLI's end-to-end tests: PostgreSQL that checks passwords, the Pub/Sub
//! emulator with the local manifest's plumbing applied by the bootstrap, the real
//! `env-provisioner` binary behind a push subscription, and a state file pointing at them.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

#[path = "build.rs"]
mod build;

use infra_bootstrap::converge;
use infra_bootstrap::manifest::Manifest;
use testbed::{free_port, Postgres, PubsubEmulator};
use tokio::process::{Child, Command};

pub struct LocalStack {
    pub emulator: PubsubEmulator,
    pub postgres: Postgres,
    pub control_url: String,
    pub state_dir: tempfile::TempDir,
    _objects: tempfile::TempDir,
    _provisioner: Child,
}

fn provisioner_binary() -> PathBuf {
    build::build_services().join("env-provisioner")
}

impl LocalStack {
    pub async fn start() -> Self {
        let binary = tokio::task::spawn_blocking(provisioner_binary);
        let (emulator, postgres) = tokio::join!(PubsubEmulator::start(), Postgres::start());
        postgres.require_passwords().await;
        let control_url = postgres.fresh_database().await;
        let objects = tempfile::tempdir().unwrap();
        let port = free_port();
        let binary = binary.await.unwrap();
        // As a deploy does: the schema first, through the binary's own `migrate`.
        let migrated = Command::new(&binary)
            .arg("migrate")
            .env_clear()
            .env("DATABASE_URL", &control_url)
            .status()
            .await
            .expect("run env-provisioner migrate");
        assert!(migrated.success(), "env-provisioner migrate: {migrated}");
        let mut provisioner = Command::new(&binary)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("PORT", port.to_string())
            .env("LISTEN_ADDRESS", "127.0.0.1")
            .env("LOG_FORMAT", "text")
            .env("GOOGLE_CLOUD_PROJECT", emulator.project())
            .env("PUBSUB_EMULATOR_HOST", emulator.host())
            .env("DATABASE_URL", &control_url)
            .env("MANAGED_DATABASE_URL", postgres.admin_url())
            .env(
                "OBJECT_STORE_URL",
                format!("file://{}", objects.path().display()),
            )
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start env-provisioner");
        let url = format!("http://127.0.0.1:{port}/");
        let mut up = false;
        for _ in 0..200 {
            if let Some(status) = provisioner.try_wait().unwrap() {
                panic!("env-provisioner exited: {status}");
            }
            if reqwest::get(format!("{url}healthz")).await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "env-provisioner did not answer on {url}");
        apply_local_manifest(&emulator, &url).await;
        let state_dir = tempfile::tempdir().unwrap();
        let state = serde_json::json!({
            "version": 1,
            "project": emulator.project(),
            "pubsub_emulator_host": emulator.host(),
            "database_url": control_url,
            "services": { "env-provisioner": { "url": url, "pid": provisioner.id() } },
        });
        std::fs::write(state_dir.path().join("stack.json"), state.to_string()).unwrap();
        Self {
            emulator,
            postgres,
            control_url,
            state_dir,
            _objects: objects,
            _provisioner: provisioner,
        }
    }

    /// Runs the CLI as a user would, finding the stack through the state file only.
    pub async fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_groundskeeper"))
            .args(args)
            .env_clear()
            .env("GROUNDSKEEPER_STATE_DIR", self.state_dir.path())
            .output()
            .await
            .expect("run groundskeeper")
    }
}

/// The repository's local manifest, on this emulator, pushing to this provisioner.
async fn apply_local_manifest(emulator: &PubsubEmulator, provisioner_url: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/local.toml");
    let mut manifest = Manifest::load(Path::new(path)).unwrap();
    manifest.project = emulator.project().to_owned();
    let service = manifest
        .services
        .iter_mut()
        .find(|s| s.name == "env-provisioner")
        .unwrap();
    service.push_endpoint = provisioner_url.to_owned();
    let (desired, stores) = infra_bootstrap::cli::connect(&manifest, Some(&emulator.host()))
        .await
        .unwrap();
    let changes = converge::plan(&desired, &stores).await.unwrap();
    converge::apply(&desired, &stores, &changes).await.unwrap();
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

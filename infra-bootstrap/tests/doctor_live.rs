//! `infra-bootstrap doctor` against a real local stack (`groundskeeper local up`): every
//! check passes, including the synthetic probes through the real services — each valid
//! probe is acked, each malformed one reaches its service's dead-letter subscription with
//! its reason — and the valid probes leave no state behind.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "gk_support/build.rs"]
mod build;

use std::path::PathBuf;
use std::process::{Command, Output};

use infra_bootstrap::cli_gk::local::group_is_alive;
use infra_bootstrap::cli_gk::stack::StackState;
use sqlx::PgPool;

/// A stack in a temp dir; dropping it runs `local down`, then kills what is left.
struct Stack {
    _root: tempfile::TempDir,
    dir: PathBuf,
    pgids: Vec<u32>,
}

impl Stack {
    fn groundskeeper(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_groundskeeper"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GROUNDSKEEPER_STATE_DIR", &self.dir)
            .output()
            .expect("run groundskeeper")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.dir.exists() {
            let _ = self.groundskeeper(&["local", "down"]);
        }
        // Only groups still alive: a stopped one's id may belong to someone else by now.
        for pgid in self.pgids.iter().filter(|p| group_is_alive(**p)) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(i32::try_from(*pgid).unwrap()),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn doctor_passes_on_a_healthy_local_stack_with_the_probes_arriving_where_they_must() {
    build::build_services();
    let root = tempfile::tempdir().unwrap();
    // PostgreSQL runs as the `postgres` user when we are root: it must reach the state dir.
    std::fs::set_permissions(
        root.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut stack = Stack {
        dir: root.path().join("state"),
        _root: root,
        pgids: vec![],
    };
    let up = stack.groundskeeper(&["local", "up", "--free-ports"]);
    assert!(up.status.success(), "local up: {}", text(&up.stderr));
    let state = StackState::read(&stack.dir.join("stack.json"))
        .unwrap()
        .expect("a state file");
    stack.pgids = state
        .processes
        .values()
        .copied()
        .chain(state.services.values().filter_map(|s| s.pid))
        .collect();

    let manifest = stack.dir.join("manifest.toml");
    let doctor = Command::new(env!("CARGO_BIN_EXE_infra-bootstrap"))
        .arg("--manifest")
        .arg(&manifest)
        .args(["--emulator-host", &state.pubsub_emulator_host])
        .args(["--output", "json", "doctor"])
        .env_remove("PUBSUB_EMULATOR_HOST")
        .output()
        .expect("run infra-bootstrap doctor");
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}): {}\n{}",
            text(&doctor.stdout),
            text(&doctor.stderr)
        )
    });
    let checks = report["checks"].as_array().unwrap();
    let bad: Vec<&serde_json::Value> = checks
        .iter()
        .filter(|c| c["ok"] != true || c["skipped"] != false)
        .collect();
    assert!(bad.is_empty(), "checks not passed: {bad:#?}");
    assert!(
        doctor.status.success(),
        "doctor exit {:?}: {}",
        doctor.status,
        text(&doctor.stderr)
    );
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for service in ["env-provisioner", "secret-rotator"] {
        for expected in [
            format!("probes for {service} (valid acked, malformed dead-lettered)"),
            format!("service {service} answers GET /healthz"),
            format!("dead-letter topic {service}-dead-letter has a subscription"),
        ] {
            assert!(
                names.contains(&expected.as_str()),
                "{expected:?} in {names:#?}"
            );
        }
    }

    // The valid probes changed nothing: the teardown probe's environment was never recorded.
    let control = PgPool::connect(&state.database_url).await.unwrap();
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM control.environments WHERE name LIKE '%doctor%'")
            .fetch_one(&control)
            .await
            .unwrap();
    assert_eq!(recorded, 0, "no environment row for the probe");
    control.close().await;

    let down = stack.groundskeeper(&["local", "down"]);
    assert!(down.status.success(), "local down: {}", text(&down.stderr));
    for pgid in std::mem::take(&mut stack.pgids) {
        assert!(!group_is_alive(pgid), "process group {pgid} is gone");
    }
}

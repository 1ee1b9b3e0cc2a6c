//! `infra-bootstrap doctor` against a real local stack (`groundskeeper local up`): every
//! check passes, including the synthetic probes through the real services — each valid
//! probe is acked, each malformed one reaches its service's dead-letter subscription with
//! its reason — and the valid probes leave no state behind.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "support/build.rs"]
mod build;
#[path = "support/stack.rs"]
mod stack;

use std::process::Command;

use sqlx::PgPool;
use stack::{text, Stack};

#[tokio::test]
async fn doctor_passes_on_a_healthy_local_stack_with_the_probes_arriving_where_they_must() {
    let mut stack = Stack::up();
    let state = stack.state.clone();

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
    let recorded = env_provisioner::inventory::list(&control)
        .await
        .unwrap()
        .into_iter()
        .filter(|env| env.name.contains("doctor"))
        .count();
    assert_eq!(recorded, 0, "no environment row for the probe");
    control.close().await;

    stack.down_and_check();
}

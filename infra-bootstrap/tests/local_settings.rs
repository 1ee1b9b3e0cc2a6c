//! `groundskeeper local up --set SERVICE:VAR=VALUE`: a person's setting reaches that service
//! (and only it) while nothing else of the CLI's environment does; an unknown service and the
//! stack's own plumbing are refused before anything starts.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "support/build.rs"]
mod build;
#[path = "support/stack.rs"]
mod stack;

use std::collections::BTreeMap;

use stack::{cli_in, text, Stack};

/// The environment a running process was started with.
fn environ(pid: u32) -> BTreeMap<String, String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|b| *b == 0)
        .filter_map(|pair| {
            let pair = String::from_utf8_lossy(pair);
            let (k, v) = pair.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[test]
fn local_up_refuses_an_unknown_service_and_the_plumbing_before_starting_anything() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("state");
    for (command, set, says) in [
        ("up", "nope:RUST_LOG=debug", "unknown service \"nope\""),
        (
            "up",
            "env-provisioner:DATABASE_URL=postgres://x:hunter2@h/db",
            "plumbing",
        ),
        (
            "demo",
            "secret-rotator:PUBSUB_EMULATOR_HOST=10.0.0.1:8085",
            "plumbing",
        ),
        (
            "up",
            "secret-rotator:GOOGLE_APPLICATION_CREDENTIALS=/k.json",
            "plumbing",
        ),
    ] {
        let out = cli_in(&dir, &["local", command, "--free-ports", "--set", set]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{command} --set {set} was accepted");
        assert!(stderr.contains(says), "{command} --set {set}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "the value is not echoed: {stderr}"
        );
        assert!(!dir.exists(), "nothing was started for {set}");
    }
}

#[tokio::test]
async fn local_up_set_reaches_the_service_and_the_shell_does_not() {
    let mut stack = Stack::up_with(
        &["--set", "env-provisioner:GK_TRY_ME=from the test"],
        // A stray Google setting in the person's shell.
        &[("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")],
    );
    let pid = |name: &str| stack.state.services[name].pid.unwrap();
    let provisioner = environ(pid("env-provisioner"));
    assert_eq!(
        provisioner.get("GK_TRY_ME").map(String::as_str),
        Some("from the test")
    );
    assert_eq!(
        provisioner.get("DATABASE_URL"),
        Some(&stack.state.database_url),
        "the plumbing is the stack's"
    );
    let rotator = environ(pid("secret-rotator"));
    assert_eq!(
        rotator.get("GK_TRY_ME"),
        None,
        "only the named service gets it"
    );
    for env in [&provisioner, &rotator] {
        assert_eq!(env.get("GOOGLE_APPLICATION_CREDENTIALS"), None);
    }
    stack.down_and_check();
}

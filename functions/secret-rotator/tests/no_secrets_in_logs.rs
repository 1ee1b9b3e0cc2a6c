//! Nothing written during rotations (successful, crashed, failed) contains a password, old
//! or new: every log line at every level (TRACE) from every crate, the events published, the
//! dead-lettered message with its attributes, and `replay --dry-run`'s report. (One test in
//! this file: the subscriber is global.)
#![allow(clippy::unwrap_used)]

mod support;

use events::names::{EnvName, LoginSlot};
use secrecy::ExposeSecret;
use secret_rotator::fault;
use shared::backends::{databases::DatabaseAdmin, secrets::SecretStore};
use shared::Decision;
use support::*;
use testbed::LogCapture;

#[tokio::test]
async fn rotation_logs_contain_no_password() {
    // Every level, every crate: the filter reads RUST_LOG (set before anything logs).
    std::env::set_var("RUST_LOG", "trace");
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber =
        shared::telemetry::subscriber("p", "secret-rotator", true, move || writer.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let stack = Stack::start(FAST).await;
    let name = env_name("logs");
    let secret = stack.provision(&name).await;
    let mut passwords = vec![stack.current(&secret).await.password];
    for round in 0..3 {
        fault::arm(secret.as_str(), fault::POINTS[round * 4 + 1]);
        stack
            .deliver(
                &format!("l{round}"),
                REQUESTED,
                serde_json::json!({ "secret": secret }),
            )
            .await
            .unwrap_err();
        stack.rotate(&secret, &format!("l{round}")).await;
        passwords.push(stack.current(&secret).await.password);
    }
    // A failure, whose reason is logged: the target role's password changed under a test.
    // Through the runtime, so the failure is dead-lettered with its reason.
    let dispatcher = stack.dispatcher(stack.config.clone());
    let failing = raw("l9", REQUESTED, serde_json::json!({ "secret": secret }));
    fault::arm(secret.as_str(), "test:before");
    let crashed = dispatcher.dispatch_raw(failing.clone()).await;
    assert!(matches!(crashed, Decision::Retry { .. }), "{crashed:?}");
    let env: EnvName = name.parse().unwrap();
    stack
        .admin
        .set_password(&env.login_role(LoginSlot::A), &"x".repeat(40).into())
        .await
        .unwrap();
    let rejected = dispatcher.dispatch_raw(failing).await;
    assert!(
        matches!(rejected, Decision::Rejected { .. }),
        "{rejected:?}"
    );
    let info = stack.info(&secret).await;
    for v in &info.versions {
        if let Ok(payload) = stack
            .store
            .access(secret.as_str(), &v.version.to_string())
            .await
        {
            passwords.push(
                secret_rotator::Credential::parse(&payload)
                    .unwrap()
                    .password,
            );
        }
    }

    let logs = capture.text();
    assert!(
        logs.contains("secret rotated"),
        "the capture saw the rotations:\n{logs}"
    );
    assert!(logs.contains("rotation failed"), "and the failure:\n{logs}");
    assert!(
        logs.contains("\"severity\":\"DEBUG\"") || logs.contains("DEBUG"),
        "and every level"
    );
    let published = stack.published.transcript();
    let dead_lettered = stack.published.messages_to(DEAD_LETTERS);
    assert_eq!(dead_lettered.len(), 1, "{published:?}");
    assert!(
        format!("{:?}", dead_lettered[0].attributes).contains("does not work"),
        "the dead letter says why: {:?}",
        dead_lettered[0].attributes
    );
    assert!(published.len() >= 5, "3 rotated, 1 failed, 1 dead-lettered");
    let replayed = replay_dry_run(&secret);
    assert!(replayed.contains("rotate secret"), "{replayed}");
    assert!(passwords.len() >= 4);
    for password in &passwords {
        let password = password.expose_secret();
        assert!(!logs.contains(password), "a password leaked into the logs");
        assert!(
            !published.iter().any(|m| m.contains(password)),
            "a password leaked into a published or dead-lettered message"
        );
        assert!(
            !replayed.contains(password),
            "a password leaked into replay"
        );
    }
}

/// `secret-rotator replay --dry-run` of a rotation request: its whole output.
fn replay_dry_run(secret: &events::names::SecretId) -> String {
    let file = std::env::temp_dir().join(format!("{}.json", uuid()));
    std::fs::write(&file, serde_json::json!({ "secret": secret }).to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secret-rotator"))
        .args(["replay", "--dry-run", "--type", REQUESTED, "--file"])
        .arg(&file)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    assert!(out.status.success(), "{out:?}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

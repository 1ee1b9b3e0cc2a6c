//! Nothing the provisioner writes contains a password it generated: every log line at every
//! level (TRACE) from every crate, the events it publishes, the dead-lettered message with
//! its attributes, and `replay --dry-run`'s report — through a clean provisioning, one that
//! crashed halfway (a second password), one refused after its credentials existed, and the
//! teardowns. (One test in this file: the subscriber is global.)
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::{sync::Arc, time::Duration};

use env_provisioner::{fault, handler, ProvisionerEvent};
use events::labels::{KIND, KIND_PLATFORM, MANAGED_BY, MANAGED_BY_VALUE};
use events::names::EnvName;
use events::Tier;
use secrecy::ExposeSecret;
use shared::dispatch::{DispatchOptions, Dispatcher};
use support::cloud_run::FakeRun;
use support::{Stack, REQUESTED, TEARDOWN};
use testbed::LogCapture;

const DEAD_LETTERS: &str = "env-provisioner-dead-letter";

/// Every password the environment's credentials secret holds (all its versions).
async fn passwords(stack: &Stack, name: &str) -> Vec<String> {
    let env: EnvName = name.parse().unwrap();
    let secret = env.secret_id(Tier::Ephemeral);
    let secrets = stack.ctx.secrets().unwrap();
    let info = secrets.get_secret(secret.as_str()).await.unwrap().unwrap();
    let mut found = vec![];
    for version in &info.versions {
        let payload = secrets
            .access(secret.as_str(), &version.version.to_string())
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(payload.expose_secret()).unwrap();
        found.push(json["password"].as_str().unwrap().to_owned());
    }
    found
}

#[tokio::test]
async fn provisioning_writes_no_password_anywhere() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = shared::telemetry::subscriber_at(
        "p",
        "env-provisioner",
        true,
        move || writer.clone(),
        tracing::Level::TRACE,
    );
    tracing::subscriber::set_global_default(subscriber).unwrap();

    // `env-taken` stands where `taken`'s preview would go: a request for `taken` with an image
    // gets its credentials, then is refused at the preview and dead-lettered.
    let fake = Arc::new(FakeRun::default());
    fake.put(
        "env-taken",
        &[(MANAGED_BY, MANAGED_BY_VALUE), (KIND, KIND_PLATFORM)],
    );
    let stack = Stack::with_previews(&[], fake.previews()).await;
    let dispatcher = Dispatcher::<ProvisionerEvent, _>::new(
        handler((*stack.config).clone()),
        stack.ctx.clone(),
        DispatchOptions {
            ledger: None,
            dead_letter_topic: DEAD_LETTERS.into(),
            timeout: Duration::from_secs(30),
        },
    );
    let deliver = |id: &str, ty: &str, data: serde_json::Value| {
        let raw = events::delivery::bare(ty, serde_json::to_vec(&data).unwrap());
        let raw = events::RawEvent {
            id: id.to_owned(),
            ..raw
        };
        dispatcher.dispatch_raw(raw)
    };

    // A provisioning that crashed after its credentials, then completed: two passwords.
    fault::arm(&"logs".parse().unwrap(), "credentials:after");
    deliver("p1", REQUESTED, support::request("logs")).await;
    deliver("p2", REQUESTED, support::request("logs")).await;
    let mut generated = passwords(&stack, "logs").await;
    assert!(!generated.is_empty());

    let mut taken = support::request("taken");
    taken["service"] = serde_json::json!({ "image": "europe-docker.pkg.dev/acme/apps/x:1" });
    let refused = deliver("t1", REQUESTED, taken).await;
    assert!(
        matches!(refused, shared::Decision::Rejected { .. }),
        "{refused:?}"
    );

    // The dry run, before the teardown, while the environment and its secret exist.
    let replayed = replay_dry_run(&stack);
    assert!(replayed.contains("\"dry\""), "{replayed}");

    generated.extend(passwords(&stack, "logs").await);
    deliver("d1", TEARDOWN, serde_json::json!({ "name": "logs" })).await;
    deliver("d2", TEARDOWN, serde_json::json!({ "name": "taken" })).await;

    let logs = capture.text();
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "every level"
    );
    assert!(logs.contains("logs"), "the capture saw the provisioning");
    let published = stack.published.transcript();
    let dead_lettered = stack.published.messages_to(DEAD_LETTERS);
    assert_eq!(dead_lettered.len(), 1, "{published:#?}");
    assert!(
        format!("{:?}", dead_lettered[0].attributes).contains("env-taken"),
        "the dead letter says why: {:?}",
        dead_lettered[0].attributes
    );
    assert!(
        published.iter().any(|m| m.contains("environment.ready")),
        "{published:#?}"
    );
    for password in &generated {
        assert!(password.len() >= 32, "a generated password");
        assert!(
            !logs.contains(password.as_str()),
            "a password leaked into the logs"
        );
        assert!(
            !published.iter().any(|m| m.contains(password.as_str())),
            "a password leaked into a published or dead-lettered message"
        );
        assert!(
            !replayed.contains(password.as_str()),
            "a password leaked into replay"
        );
    }
}

/// `env-provisioner replay --dry-run` of a request for a new environment against the stack's
/// databases, at TRACE: its whole output.
fn replay_dry_run(stack: &Stack) -> String {
    let file = std::env::temp_dir().join(format!("replay-{}.json", std::process::id()));
    std::fs::write(&file, support::request("dry").to_string()).unwrap();
    let control = stack.control.connect_options();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_env-provisioner"))
        .args(["replay", "--dry-run", "--type", REQUESTED, "--file"])
        .arg(&file)
        .env(
            "DATABASE_URL",
            stack.postgres.url(control.get_database().unwrap()),
        )
        .env("MANAGED_DATABASE_URL", stack.postgres.admin_url())
        .env("OBJECT_STORE_URL", &stack.config.object_store_url)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The dry run has no control database (shared::replay builds none), so the provisioner
    // plans nothing past its claim and asks for a retry (exit 1); its report is still checked.
    assert!(text.contains("\"decision\""), "{text}");
    text
}

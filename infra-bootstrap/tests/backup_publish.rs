//! `groundskeeper backup now` and `backup restore` publish exactly their request to
//! backup-runner's topic on the Pub/Sub emulator; a bad name or time is refused before
//! anything is published.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "backup/fixtures.rs"]
mod fixtures;

use std::time::Duration;

use fixtures::{cli, stderr, stdout};
use testbed::PubsubEmulator;

const TOPIC: &str = "backup-window";

async fn emulator() -> PubsubEmulator {
    let emulator = PubsubEmulator::start().await;
    emulator.create_topic(TOPIC).await;
    emulator.create_pull_subscription(TOPIC, "capture").await;
    emulator
}

async fn run(emulator: &PubsubEmulator, args: &[&str]) -> std::process::Output {
    let host = emulator.host();
    let env = [
        ("GOOGLE_CLOUD_PROJECT", emulator.project()),
        ("PUBSUB_EMULATOR_HOST", host.as_str()),
    ];
    cli(args, &env).await
}

/// The next message on the topic: its type and its payload.
async fn next(emulator: &PubsubEmulator) -> (String, serde_json::Value) {
    let got = emulator.pull("capture", 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "one message");
    let data = serde_json::from_slice(&got[0].data).unwrap();
    (got[0].attributes["ce-type"].clone(), data)
}

#[tokio::test]
async fn backup_now_publishes_one_environment_s_or_everything_s_request() {
    let emulator = emulator().await;
    let out = run(
        &emulator,
        &["backup", "now", "shop", "--reason", "before the migration"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty(), "the message id");
    let (ty, data) = next(&emulator).await;
    assert_eq!(ty, "dev.groundskeeper.backup.requested.v1");
    assert_eq!(
        data,
        serde_json::json!({ "environment": "shop", "reason": "before the migration" })
    );

    let out = run(&emulator, &["backup", "now"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(next(&emulator).await.1, serde_json::json!({}));
}

#[tokio::test]
async fn backup_restore_publishes_the_exact_request_and_refuses_bad_input_first() {
    let emulator = emulator().await;
    let at = "--at 2026-01-02T03:04:05Z";
    for bad in [
        "shop --at yesterday --into shop_copy".to_owned(),
        format!("shop {at} --into x;DROP"),
        format!("Shop {at} --into copy"),
        // --into must be the environment's own database.
        format!("shop {at} --into copy --into-environment pr-9"),
    ] {
        let args: Vec<&str> = ["backup", "restore"]
            .into_iter()
            .chain(bad.split_whitespace())
            .collect();
        let out = run(&emulator, &args).await;
        assert!(!out.status.success(), "{bad:?} was accepted");
    }
    let good = "shop --at 2026-01-02T03:04:05+01:00 --into env_pr_9 --into-environment pr-9";
    let args: Vec<&str> = ["backup", "restore"]
        .into_iter()
        .chain(good.split_whitespace())
        .collect();
    let out = run(&emulator, &args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    // The first message on the topic is this one: none of the refused ones was published.
    let (ty, data) = next(&emulator).await;
    assert_eq!(ty, "dev.groundskeeper.backup.restore.requested.v1");
    assert_eq!(
        data,
        serde_json::json!({
            "environment": "shop",
            "at": "2026-01-02T02:04:05Z",
            "into": "env_pr_9",
            "into_environment": "pr-9",
        })
    );
}

//! The real service binary: it drains in-flight deliveries on SIGTERM, and it is reached by
//! real push delivery from the Pub/Sub emulator (publish → push → runtime → handler → ack).

mod support;

use std::{collections::BTreeMap, process::Stdio, time::Duration};

use nix::{sys::signal::Signal, unistd::Pid};
use reqwest::StatusCode;
use testbed::{free_port, unique_name, Postgres, PubsubEmulator};
use tokio::process::{Child, Command};

const PING: &str = "dev.groundskeeper.example.ping.v1";

/// Starts `example-service` with `env` and waits until `/healthz` answers.
async fn start_service(env: &[(&str, String)]) -> (Child, String) {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-service"));
    command
        .env_clear()
        .env("PORT", port.to_string())
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .kill_on_drop(true);
    let child = command.spawn().expect("start example-service");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/healthz")).await.is_ok() {
            return (child, url);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("example-service did not answer on {url}");
}

fn ping_attributes(id: &str) -> BTreeMap<String, String> {
    support::attrs(&[
        ("ce-type", PING),
        ("ce-source", "//tests"),
        ("ce-id", id),
        ("ce-specversion", "1.0"),
    ])
}

#[tokio::test]
async fn sigterm_lets_the_in_flight_delivery_finish_and_refuses_new_ones() {
    let (mut child, url) = start_service(&[]).await;
    let slow = support::push_body(
        PING,
        &serde_json::json!({ "name": "slow", "sleep_ms": 1500 }),
        "s-1",
    );
    let in_flight = tokio::spawn({
        let url = url.clone();
        async move { support::post(&url, slow).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = Pid::from_raw(child.id().expect("running") as i32);
    nix::sys::signal::kill(pid, Signal::SIGTERM).expect("SIGTERM");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let late = reqwest::Client::new()
        .post(&url)
        .body(support::push_body(
            PING,
            &serde_json::json!({ "name": "late" }),
            "s-2",
        ))
        .send()
        .await;
    assert!(
        late.is_err(),
        "a new delivery after SIGTERM is refused: {late:?}"
    );
    assert_eq!(
        in_flight.await.unwrap(),
        StatusCode::NO_CONTENT,
        "the in-flight one finished"
    );
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .expect("exits within the grace period")
        .expect("exit status");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn published_events_are_pushed_by_the_emulator_handled_and_acked() {
    let (emulator, postgres) = tokio::join!(PubsubEmulator::start(), Postgres::start());
    let (pings, events, dead_letter) = (
        unique_name("pings"),
        unique_name("events"),
        unique_name("dlq"),
    );
    for topic in [&pings, &events, &dead_letter] {
        emulator.create_topic(topic).await;
    }
    emulator
        .create_pull_subscription(&events, &format!("{events}-sub"))
        .await;
    emulator
        .create_pull_subscription(&dead_letter, &format!("{dead_letter}-sub"))
        .await;
    let database_url = postgres.fresh_database().await;
    // As a deploy does: the schema first, through the binary's own `migrate`.
    let migrated = Command::new(env!("CARGO_BIN_EXE_example-service"))
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", &database_url)
        .status()
        .await
        .expect("run example-service migrate");
    assert!(migrated.success(), "migrate: {migrated}");
    let (_service, url) = start_service(&[
        ("PUBSUB_EMULATOR_HOST", emulator.host()),
        ("GOOGLE_CLOUD_PROJECT", emulator.project().to_owned()),
        ("EVENTS_TOPIC", events.clone()),
        ("DEAD_LETTER_TOPIC", dead_letter.clone()),
        ("DATABASE_URL", database_url.clone()),
    ])
    .await;
    emulator
        .create_push_subscription(&pings, &format!("{pings}-push"), &format!("{url}/"))
        .await;

    let pong = serde_json::json!({ "name": "demo", "behaviour": "pong" }).to_string();
    emulator
        .publish(&pings, pong.as_bytes(), &ping_attributes("e2e-1"))
        .await;
    let bad = serde_json::json!({ "name": "Not_A_Name" }).to_string();
    emulator
        .publish(&pings, bad.as_bytes(), &ping_attributes("e2e-2"))
        .await;

    let replies = emulator
        .pull(&format!("{events}-sub"), 1, Duration::from_secs(20))
        .await;
    assert_eq!(
        replies.len(),
        1,
        "the handler ran and emitted its follow-up event"
    );
    assert_eq!(
        replies[0].attributes["ce-type"],
        "dev.groundskeeper.example.pong.v1"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&replies[0].data).unwrap()["name"],
        "demo"
    );

    let parked = emulator
        .pull(&format!("{dead_letter}-sub"), 1, Duration::from_secs(20))
        .await;
    assert_eq!(parked.len(), 1, "the invalid ping was dead-lettered");
    assert_eq!(parked[0].attributes["error-type"], "invalid-payload");
    assert!(
        parked[0].attributes["error-reason"].contains("environment name"),
        "{:?}",
        parked[0].attributes
    );

    // The handled delivery is recorded as done; the invalid one was refused before the
    // ledger (a decode failure is deterministic, so there is nothing to deduplicate).
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    let mut keys: Vec<String> = Vec::new();
    for _ in 0..50 {
        keys = sqlx::query_scalar("SELECT event_key FROM control.deliveries WHERE status = 'done'")
            .fetch_all(&pool)
            .await
            .unwrap();
        if !keys.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(keys, ["//tests e2e-1"]);
}

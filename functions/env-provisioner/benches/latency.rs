//! Request published → `environment.ready` received, through real push delivery: the
//! `env-provisioner` binary behind a push subscription on the Pub/Sub emulator, PostgreSQL
//! checking passwords, the local secret store and a file object store.
//!
//! `cargo bench -p env-provisioner --bench latency` prints the median of 20 (after 2 warm-up
//! requests) with min / p90 / max. Figures and conditions: BENCHMARKS.md.
#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use events::environment::EnvironmentRequested;
use events::OutgoingEvent;
use shared::backends::publisher::{Publisher, PubsubPublisher};
use testbed::{free_port, Postgres, PubsubEmulator};
use tokio::process::Command;

const RUNS: usize = 20;
const WARM_UP: usize = 2;

#[tokio::main]
async fn main() {
    let (emulator, postgres) = tokio::join!(PubsubEmulator::start(), Postgres::start());
    postgres.require_passwords().await;
    let objects = tempfile::tempdir().unwrap();
    let port = free_port();
    let _service = Command::new(env!("CARGO_BIN_EXE_env-provisioner"))
        .env_clear()
        .envs([
            ("PORT", port.to_string()),
            ("LISTEN_ADDRESS", "127.0.0.1".into()),
            ("LOG_FORMAT", "text".into()),
            ("RUST_LOG", "warn".into()),
            ("GOOGLE_CLOUD_PROJECT", emulator.project().into()),
            ("PUBSUB_EMULATOR_HOST", emulator.host()),
            ("DATABASE_URL", postgres.fresh_database().await),
            ("MANAGED_DATABASE_URL", postgres.admin_url()),
            (
                "OBJECT_STORE_URL",
                format!("file://{}", objects.path().display()),
            ),
            ("MAX_ENVIRONMENTS_PER_OWNER", "100".into()),
        ])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    while reqwest::get(format!("{url}healthz")).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for topic in [
        "environment-requests",
        "groundskeeper-events",
        "env-provisioner-dead-letter",
    ] {
        emulator.create_topic(topic).await;
    }
    emulator
        .create_push_subscription("environment-requests", "push", &url)
        .await;
    emulator
        .create_pull_subscription("groundskeeper-events", "watch")
        .await;

    let publisher = PubsubPublisher::new(emulator.project(), Some(&emulator.host())).unwrap();
    let http = reqwest::Client::new();
    let pull = format!(
        "{}/v1/{}:pull",
        emulator.endpoint(),
        emulator.subscription_path("watch")
    );
    let mut samples = Vec::new();
    for i in 0..WARM_UP + RUNS {
        let name = format!("lat-{i}");
        let request: EnvironmentRequested = serde_json::from_value(serde_json::json!(
            { "name": name, "owner": "bench@example.com", "tier": "ephemeral", "ttl": "1h" }
        ))
        .unwrap();
        let event = OutgoingEvent::new("//bench", format!("bench-{i}"), &request);
        let start = Instant::now();
        publisher
            .publish("environment-requests", event.into_message())
            .await
            .unwrap();
        let ty = ready_of(&http, &pull, &name).await;
        let elapsed = start.elapsed();
        assert_eq!(ty, "dev.groundskeeper.environment.ready.v1", "{name}");
        if i >= WARM_UP {
            samples.push(elapsed);
        }
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "env-provisioner latency, request published -> environment.ready received ({RUNS} runs): \
         median {:.0} ms, min {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        ms((samples[RUNS / 2 - 1] + samples[RUNS / 2]) / 2),
        ms(samples[0]),
        ms(samples[RUNS * 9 / 10 - 1]),
        ms(samples[RUNS - 1]),
    );
}

/// Pulls (every 5 ms, so polling adds little) until a status event for `name` arrives; acks
/// what it reads and returns that event's type.
async fn ready_of(http: &reqwest::Client, pull: &str, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "no event for {name} within 30 s");
        let body = serde_json::json!({ "maxMessages": 10, "returnImmediately": true });
        let reply: serde_json::Value = http
            .post(pull)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let received = reply["receivedMessages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !received.is_empty() {
            let ack_ids: Vec<_> = received.iter().map(|r| r["ackId"].clone()).collect();
            let ack = pull.replace(":pull", ":acknowledge");
            http.post(&ack)
                .json(&serde_json::json!({ "ackIds": ack_ids }))
                .send()
                .await
                .unwrap();
        }
        for r in &received {
            let data = STANDARD
                .decode(r["message"]["data"].as_str().unwrap_or_default())
                .unwrap();
            let payload: serde_json::Value = serde_json::from_slice(&data).unwrap();
            let attributes: BTreeMap<String, String> =
                serde_json::from_value(r["message"]["attributes"].clone()).unwrap();
            if payload["name"] == name {
                return attributes["ce-type"].clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

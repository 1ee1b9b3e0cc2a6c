//! Pins the Pub/Sub emulator's redelivery defect that the fault suite works around
//! (`support/nudger.rs`): with a retry policy, once several pushes of a subscription fail
//! together, it never redelivers them again. When an emulator without the defect arrives,
//! this fails, and the nudger can go.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use testbed::PubsubEmulator;

/// A push endpoint that refuses every delivery (503) and counts them.
async fn refusing_endpoint() -> (String, Arc<AtomicUsize>) {
    let pushes = Arc::new(AtomicUsize::new(0));
    let counted = pushes.clone();
    let app = axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { StatusCode::SERVICE_UNAVAILABLE }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, pushes)
}

/// Pushes seen after `settle`, then how many more came in the `quiet` after it.
async fn pushes_then_more(messages: usize, settle: Duration, quiet: Duration) -> (usize, usize) {
    let emulator = PubsubEmulator::start().await;
    emulator.create_topic("refused").await;
    let (endpoint, pushes) = refusing_endpoint().await;
    let body = json!({
        "topic": emulator.topic_path("refused"),
        "ackDeadlineSeconds": 10,
        "pushConfig": { "pushEndpoint": endpoint },
        "retryPolicy": { "minimumBackoff": "1s", "maximumBackoff": "2s" },
    });
    let url = format!(
        "http://{}/v1/{}",
        emulator.host(),
        emulator.subscription_path("refused-push")
    );
    let created = reqwest::Client::new().put(url).json(&body).send().await;
    assert!(created.unwrap().status().is_success());
    for i in 0..messages {
        let data = format!("message {i}");
        emulator
            .publish("refused", data.as_bytes(), &Default::default())
            .await;
    }
    tokio::time::sleep(settle).await;
    let before = pushes.load(Ordering::SeqCst);
    tokio::time::sleep(quiet).await;
    (before, pushes.load(Ordering::SeqCst) - before)
}

#[tokio::test]
#[ignore = "documents a defect of the emulator: run by `make chaos-short` and `make chaos`"]
async fn the_emulator_stops_redelivering_once_several_pushes_failed_together() {
    let (before, after) = pushes_then_more(8, Duration::from_secs(8), Duration::from_secs(8)).await;
    assert!(before >= 8, "every message was pushed at least once");
    assert_eq!(
        after, 0,
        "eight refused messages were still retried after 8 s: the emulator's redelivery \
         works now, and the fault suite's nudger (support/nudger.rs) can go"
    );
}

#[tokio::test]
#[ignore = "the control of the test above: run with it"]
async fn the_emulator_retries_one_refused_message_for_as_long_as_it_fails() {
    let (_, after) = pushes_then_more(1, Duration::from_secs(8), Duration::from_secs(8)).await;
    assert!(
        after >= 2,
        "one refused message is retried: {after} pushes in 8 s"
    );
}

//! The runtime maps every outcome to the status Pub/Sub understands, over real HTTP, and a
//! rejected delivery can be pulled back from the real dead-letter topic with its reason.

mod support;

use std::{
    sync::{atomic::AtomicUsize, atomic::Ordering, Arc},
    time::Duration,
};

use reqwest::StatusCode;
use shared::{
    backends::{
        publisher::{Publisher, PubsubPublisher, RecordingPublisher},
        Plan,
    },
    dispatch::DispatchOptions,
};
use support::{counting_handler, ctx, options, ping, post, push_body, spawn, TestService};
use testbed::{unique_name, PubsubEmulator};

async fn emulator_with_dead_letter() -> (PubsubEmulator, String, String) {
    let emulator = PubsubEmulator::start().await;
    let topic = unique_name("dead-letter");
    let subscription = format!("{topic}-sub");
    emulator.create_topic(&topic).await;
    emulator
        .create_pull_subscription(&topic, &subscription)
        .await;
    (emulator, topic, subscription)
}

fn publisher(emulator: &PubsubEmulator) -> Arc<dyn Publisher> {
    Arc::new(PubsubPublisher::new(emulator.project(), Some(&emulator.host())).expect("publisher"))
}

/// The counting test service, dead-lettering through `publisher`; returns its run counter.
async fn counting_service(
    publisher: Arc<dyn Publisher>,
    options: DispatchOptions,
) -> (Arc<AtomicUsize>, TestService) {
    let runs = Arc::new(AtomicUsize::new(0));
    let service = spawn(
        counting_handler(runs.clone()),
        ctx(publisher),
        options,
        None,
    )
    .await;
    (runs, service)
}

/// For tests that never publish: no emulator to start.
fn recording() -> Arc<dyn Publisher> {
    Arc::new(RecordingPublisher::new(Plan::default()))
}

#[tokio::test]
async fn every_outcome_gets_the_status_pubsub_understands() {
    let (emulator, dead_letter, dlq_sub) = emulator_with_dead_letter().await;
    let (runs, service) = counting_service(publisher(&emulator), options(&dead_letter)).await;

    assert_eq!(
        post(&service.url, ping("done", "m-1")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(&service.url, ping("ignore", "m-2")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(&service.url, ping("retry", "m-3")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert!(
        emulator
            .pull(&dlq_sub, 10, Duration::from_millis(500))
            .await
            .is_empty(),
        "nothing but rejections is dead-lettered"
    );

    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let wrong_method = client.get(&service.url).send().await.unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_panicking_handler_is_retried_and_the_process_keeps_serving() {
    let (runs, service) = counting_service(recording(), options("unused")).await;

    assert_eq!(
        post(&service.url, ping("panic", "p-1")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        post(&service.url, ping("done", "p-2")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_slow_handler_is_cut_off_at_the_delivery_timeout_and_retried() {
    let mut opts = options("unused");
    opts.timeout = Duration::from_millis(200);
    let (_runs, service) = counting_service(recording(), opts).await;
    let slow = push_body(
        support::Ping::TYPE_NAME,
        &serde_json::json!({ "behaviour": "done", "sleep_ms": 5_000 }),
        "slow-1",
    );
    assert_eq!(
        post(&service.url, slow).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn rejections_are_dead_lettered_with_their_reason_then_acked() {
    let (emulator, dead_letter, dlq_sub) = emulator_with_dead_letter().await;
    let (runs, service) = counting_service(publisher(&emulator), options(&dead_letter)).await;

    // Rejected by the handler, by type, by payload, and undecodable.
    assert_eq!(
        post(&service.url, ping("reject", "r-1")).await,
        StatusCode::NO_CONTENT
    );
    let unknown = push_body("dev.groundskeeper.nobody.v1", &serde_json::json!({}), "r-2");
    assert_eq!(post(&service.url, unknown).await, StatusCode::NO_CONTENT);
    let invalid = push_body(
        support::Ping::TYPE_NAME,
        &serde_json::json!({ "behavior": "typo" }),
        "r-3",
    );
    assert_eq!(post(&service.url, invalid).await, StatusCode::NO_CONTENT);
    assert_eq!(
        post(&service.url, b"{not json".to_vec()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "only the well-formed ping ran"
    );

    let mut parked = emulator.pull(&dlq_sub, 10, Duration::from_secs(10)).await;
    for _ in 0..10 {
        if parked.len() >= 4 {
            break;
        }
        parked.extend(emulator.pull(&dlq_sub, 10, Duration::from_secs(2)).await);
    }
    assert_eq!(parked.len(), 4, "{parked:#?}");
    let by_type = |t: &str| {
        parked
            .iter()
            .find(|m| m.attributes.get("error-type").map(String::as_str) == Some(t))
            .unwrap_or_else(|| panic!("no dead letter of type {t}: {parked:#?}"))
    };
    let handler = by_type("rejected-by-handler");
    assert_eq!(
        handler.attributes["error-reason"],
        "asked to reject: the ping is unacceptable"
    );
    assert_eq!(handler.attributes["original-message-id"], "r-1");
    assert_eq!(
        handler.attributes["ce-type"],
        support::Ping::TYPE_NAME,
        "replayable as-is"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&handler.data).unwrap()["behaviour"],
        "reject"
    );
    assert!(by_type("unknown-event-type").attributes["error-reason"]
        .contains("dev.groundskeeper.nobody.v1"));
    assert!(by_type("invalid-payload").attributes["error-reason"].contains("behavior"));
    assert_eq!(by_type("undecodable-delivery").data, b"{not json");
}

#[tokio::test]
async fn a_rejection_that_cannot_be_dead_lettered_is_not_acked() {
    let emulator = PubsubEmulator::start().await;
    // The dead-letter topic does not exist, so forwarding fails.
    let (_runs, service) = counting_service(publisher(&emulator), options("missing-topic")).await;
    assert_eq!(
        post(&service.url, ping("reject", "x-1")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn a_body_over_pubsubs_maximum_is_refused_with_413() {
    let (runs, service) = counting_service(recording(), options("unused")).await;
    let huge = vec![b'x'; shared::server::MAX_BODY_BYTES + 1];
    assert_eq!(
        post(&service.url, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

//! Test support for the runtime: a test payload, a steerable handler and an in-process
//! service on a real loopback socket.
#![allow(dead_code)] // each test file uses a different part

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use shared::{
    auth::PushAuth,
    backends::{publisher::Publisher, Plan},
    dispatch::{DispatchOptions, Dispatcher},
    Backends, Classify, Ctx, Disposition, Event, Handler, Outcome, Payload, TypedEvent,
};

/// The test event: its fields steer the handler.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {
    pub behaviour: String,
    #[serde(default)]
    pub sleep_ms: u64,
}

impl TypedEvent for Ping {
    const TYPE: &'static str = Ping::TYPE_NAME;
}

impl Ping {
    /// The event type, nameable without importing `TypedEvent`.
    pub const TYPE_NAME: &'static str = "dev.groundskeeper.test.ping.v1";
}

#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("asked to retry")]
    Retry,
    #[error("asked to reject: the ping is unacceptable")]
    Reject,
}

impl Classify for PingError {
    fn disposition(&self) -> Disposition {
        match self {
            Self::Retry => Disposition::Retry { quiet: false },
            Self::Reject => Disposition::Reject,
        }
    }
}

/// A handler that counts its runs and does what the ping says.
pub fn counting_handler(runs: Arc<AtomicUsize>) -> impl Handler<Ping> {
    move |event: Event<Ping>, _ctx: Ctx| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(event.data.sleep_ms)).await;
            match event.data.behaviour.as_str() {
                "retry" => Err(PingError::Retry),
                "reject" => Err(PingError::Reject),
                "panic" => panic!("asked to panic"),
                "ignore" => Ok(Outcome::Ignored("asked to ignore".into())),
                _ => Ok(Outcome::Done),
            }
        }
    }
}

/// A Pub/Sub push body (wrapped form) carrying `data` as event type `ty`.
pub fn push_body(ty: &str, data: &serde_json::Value, message_id: &str) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data.to_string());
    serde_json::to_vec(&serde_json::json!({
        "message": {
            "data": encoded,
            "attributes": { "ce-type": ty, "ce-source": "//tests", "ce-id": message_id,
                            "ce-specversion": "1.0" },
            "messageId": message_id,
            "publishTime": "2026-11-22T10:00:00.123Z",
        },
        "subscription": "projects/test/subscriptions/test-push",
    }))
    .expect("serialisable")
}

/// A ping push body.
pub fn ping(behaviour: &str, message_id: &str) -> Vec<u8> {
    push_body(
        Ping::TYPE_NAME,
        &serde_json::json!({ "behaviour": behaviour }),
        message_id,
    )
}

/// Backends over `publisher`, no control database.
pub fn ctx(publisher: Arc<dyn Publisher>) -> Ctx {
    Ctx::new(Backends {
        service: "runtime-test".into(),
        events_topic: "events".into(),
        publisher,
        control_db: None,
        object_store: None,
        secrets: None,
        databases: None,
        plan: None::<Plan>,
    })
}

/// A service running in this process on a loopback port.
pub struct TestService {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn<T: Payload, H: Handler<T>>(
    handler: H,
    ctx: Ctx,
    options: DispatchOptions,
    auth: Option<PushAuth>,
) -> TestService {
    let router =
        shared::server::router(Dispatcher::new(handler, ctx, options), auth, "runtime-test");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    tokio::spawn(shared::server::serve(
        listener,
        router,
        shutdown,
        Duration::from_secs(1),
    ));
    TestService {
        url,
        stop: Some(stop),
    }
}

pub fn options(dead_letter_topic: &str) -> DispatchOptions {
    DispatchOptions {
        ledger: None,
        dead_letter_topic: dead_letter_topic.into(),
        timeout: Duration::from_secs(10),
    }
}

pub async fn post(url: &str, body: Vec<u8>) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request")
        .status()
}

pub fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

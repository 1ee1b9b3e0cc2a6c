//! The official Pub/Sub emulator, with REST helpers (the emulator serves the REST API at
//! `http://HOST/v1/...` as well as gRPC) to set up topics and subscriptions and to check
//! what was published.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::{json, Value};

use crate::names::{free_port, unique_name};
use local_components::process::Log;
use local_components::{pubsub, tools};

use crate::process::ProcessGroup;

const INSTALL_HINT: &str = tools::INSTALL_EMULATOR;

/// A running emulator in its own process group, with a project id of its own.
#[derive(Debug)]
pub struct PubsubEmulator {
    port: u16,
    project: String,
    http: reqwest::Client,
    // Field order matters: the process stops before its data dir is deleted.
    process: ProcessGroup,
    _dir: tempfile::TempDir,
}

/// One message pulled (and acknowledged) from a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledMessage {
    /// The server-assigned id.
    pub message_id: String,
    /// The payload, decoded from base64.
    pub data: Vec<u8>,
    /// The message attributes.
    pub attributes: BTreeMap<String, String>,
}

impl PubsubEmulator {
    /// Starts the emulator on a free port and waits until it answers (Java takes seconds).
    /// Panics with an install hint when `gcloud` is missing.
    pub async fn start() -> Self {
        let gcloud = tools::gcloud().unwrap_or_else(|e| panic!("{e:#}"));
        let dir = tempfile::Builder::new()
            .prefix("testbed-pubsub-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let project = unique_name("testbed");
        let log = dir.path().join("log");
        let child = pubsub::spawn(
            &gcloud,
            &project,
            port,
            dir.path(),
            (&log, Log::Truncate),
            &["--verbosity=error"],
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{INSTALL_HINT}"));
        // Adopted first: a panic below drops it, which stops the whole group.
        let process = ProcessGroup::adopt("the Pub/Sub emulator", child, &log, INSTALL_HINT);
        let pgid = u32::try_from(process.pgid()).expect("a positive pgid");
        if let Err(e) = pubsub::wait(pgid, port, &log).await {
            panic!("{e:#}\n{INSTALL_HINT}");
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("build an HTTP client");
        Self {
            port,
            project,
            http,
            process,
            _dir: dir,
        }
    }

    /// `127.0.0.1:PORT`, the form of `PUBSUB_EMULATOR_HOST`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`, for the official client's `with_endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The project id this emulator instance was started with.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The port the emulator listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The emulator's process group id (for checking it is gone after drop).
    pub fn pgid(&self) -> i32 {
        self.process.pgid()
    }

    /// `projects/P/topics/ID`.
    pub fn topic_path(&self, topic: &str) -> String {
        format!("projects/{}/topics/{topic}", self.project)
    }

    /// `projects/P/subscriptions/ID`.
    pub fn subscription_path(&self, subscription: &str) -> String {
        format!("projects/{}/subscriptions/{subscription}", self.project)
    }

    /// Creates topic `topic`.
    pub async fn create_topic(&self, topic: &str) {
        self.call(reqwest::Method::PUT, &self.topic_path(topic), json!({}))
            .await;
    }

    /// Creates a pull subscription `subscription` on `topic`.
    pub async fn create_pull_subscription(&self, topic: &str, subscription: &str) {
        let body = json!({ "topic": self.topic_path(topic), "ackDeadlineSeconds": 10 });
        self.call(
            reqwest::Method::PUT,
            &self.subscription_path(subscription),
            body,
        )
        .await;
    }

    /// Creates a push subscription `subscription` on `topic` delivering (wrapped) to
    /// `push_endpoint`, e.g. `http://127.0.0.1:8080/`.
    pub async fn create_push_subscription(
        &self,
        topic: &str,
        subscription: &str,
        push_endpoint: &str,
    ) {
        let body = json!({
            "topic": self.topic_path(topic),
            "ackDeadlineSeconds": 10,
            "pushConfig": { "pushEndpoint": push_endpoint },
        });
        self.call(
            reqwest::Method::PUT,
            &self.subscription_path(subscription),
            body,
        )
        .await;
    }

    /// Publishes one message to `topic` and returns its message id.
    pub async fn publish(
        &self,
        topic: &str,
        data: &[u8],
        attributes: &BTreeMap<String, String>,
    ) -> String {
        let mut message = json!({ "data": STANDARD.encode(data) });
        if !attributes.is_empty() {
            message["attributes"] = json!(attributes);
        }
        let path = format!("{}:publish", self.topic_path(topic));
        let reply = self
            .call(
                reqwest::Method::POST,
                &path,
                json!({ "messages": [message] }),
            )
            .await;
        reply["messageIds"][0]
            .as_str()
            .expect("publish reply has a message id")
            .to_owned()
    }

    /// Pulls from `subscription` until `max` messages arrived or `timeout` passed, acks
    /// them and returns them in arrival order. Waits the full timeout when fewer arrive, so
    /// "nothing was published" is `pull(sub, 1, short).is_empty()`.
    pub async fn pull(
        &self,
        subscription: &str,
        max: usize,
        timeout: Duration,
    ) -> Vec<PulledMessage> {
        let deadline = Instant::now() + timeout;
        let path = self.subscription_path(subscription);
        let mut messages = Vec::new();
        while messages.len() < max {
            let want = max - messages.len();
            // returnImmediately keeps each call short, so the deadline is ours to enforce.
            let body = json!({ "maxMessages": want, "returnImmediately": true });
            let reply = self
                .call(reqwest::Method::POST, &format!("{path}:pull"), body)
                .await;
            let received = reply["receivedMessages"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !received.is_empty() {
                let ack_ids: Vec<&Value> = received.iter().map(|r| &r["ackId"]).collect();
                let body = json!({ "ackIds": ack_ids });
                self.call(reqwest::Method::POST, &format!("{path}:acknowledge"), body)
                    .await;
                messages.extend(received.iter().map(|r| parse_message(&r["message"])));
                continue;
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        messages
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/v1/{path}", self.endpoint());
        let response = self
            .http
            .request(method.clone(), &url)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{method} {url} -> {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

fn parse_message(message: &Value) -> PulledMessage {
    let data = message["data"].as_str().unwrap_or_default();
    PulledMessage {
        message_id: message["messageId"].as_str().unwrap_or_default().to_owned(),
        data: STANDARD
            .decode(data)
            .expect("the emulator sends base64 data"),
        attributes: serde_json::from_value(message["attributes"].clone()).unwrap_or_default(),
    }
}

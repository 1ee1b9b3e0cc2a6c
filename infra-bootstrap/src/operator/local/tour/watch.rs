//! Watching a pull subscription on the emulator for one message, through the emulator's
//! REST face (short pulls, so the deadline is ours). On the dead-letter subscription only
//! the message looked for is acknowledged — the others are someone's record of a failure;
//! on the events watch, which is the tour's own feed, every message is acknowledged and
//! the ones not looked for are kept in a backlog that later waits search first: follow-up
//! events come in whatever order the services finish (a seeded environment's `ready` and
//! its `backup.restored` race), often in one pull, and a step must find an event that
//! arrived while it waited for another.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use serde_json::{json, Value};

/// A pulled message.
pub struct Pulled {
    /// Its attributes (`ce-type`, `error-reason`, …).
    pub attributes: BTreeMap<String, String>,
    /// Its payload.
    pub data: Vec<u8>,
}

/// How many passed-over events the backlog keeps (the oldest go first): a tour publishes a
/// few dozen; events left from before the tour are not what it waits for.
const BACKLOG: usize = 256;

/// One subscription on the emulator.
pub struct Watch {
    http: reqwest::Client,
    path: String,
    consume_others: bool,
    /// Acknowledged messages not yet looked for, oldest first (with `consume_others`).
    backlog: Mutex<VecDeque<Pulled>>,
}

impl Watch {
    /// `subscription` of `project` on the emulator at `host`; `consume_others`: acknowledge
    /// the messages not looked for and keep them for later waits, rather than hand them back.
    pub fn new(host: &str, project: &str, subscription: &str, consume_others: bool) -> Self {
        Self {
            http: reqwest::Client::new(),
            path: format!("http://{host}/v1/projects/{project}/subscriptions/{subscription}"),
            consume_others,
            backlog: Mutex::new(VecDeque::new()),
        }
    }

    /// The first message for which `wanted` holds — from the backlog, else pulled and
    /// acknowledged; an error after `timeout`.
    pub async fn next(
        &self,
        timeout: Duration,
        wanted: impl Fn(&Pulled) -> bool,
    ) -> anyhow::Result<Pulled> {
        if let Some(kept) = self.take_kept(&wanted) {
            return Ok(kept);
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let body = json!({ "maxMessages": 50, "returnImmediately": true });
            let reply: Value = self.call("pull", body).await?;
            let mut found = None;
            for received in reply["receivedMessages"].as_array().into_iter().flatten() {
                let message = &received["message"];
                let pulled = Pulled {
                    attributes: serde_json::from_value(message["attributes"].clone())
                        .unwrap_or_default(),
                    data: base64::engine::general_purpose::STANDARD
                        .decode(message["data"].as_str().unwrap_or_default())
                        .unwrap_or_default(),
                };
                let ack_id = received["ackId"].as_str().unwrap_or_default();
                let ours = found.is_none() && wanted(&pulled);
                if ours || self.consume_others {
                    self.call("acknowledge", json!({ "ackIds": [ack_id] }))
                        .await?;
                    if ours {
                        found = Some(pulled);
                    } else {
                        self.keep(pulled);
                    }
                } else {
                    // Back to the subscription at once, for its owner.
                    let body = json!({ "ackIds": [ack_id], "ackDeadlineSeconds": 0 });
                    self.call("modifyAckDeadline", body).await?;
                }
            }
            if let Some(pulled) = found {
                return Ok(pulled);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "nothing looked for arrived on {} within {timeout:?}",
            self.path
        )
    }

    /// Takes the oldest kept message for which `wanted` holds.
    fn take_kept(&self, wanted: impl Fn(&Pulled) -> bool) -> Option<Pulled> {
        let mut backlog = self.backlog.lock().unwrap_or_else(|e| e.into_inner());
        let at = backlog.iter().position(wanted)?;
        backlog.remove(at)
    }

    /// Keeps an acknowledged message a later wait may look for.
    fn keep(&self, pulled: Pulled) {
        let mut backlog = self.backlog.lock().unwrap_or_else(|e| e.into_inner());
        if backlog.len() == BACKLOG {
            backlog.pop_front();
        }
        backlog.push_back(pulled);
    }

    async fn call(&self, verb: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}:{verb}", self.path))
            .json(&body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .with_context(|| format!("{verb} on {}", self.path))?;
        anyhow::ensure!(
            response.status().is_success(),
            "{verb} on {}: {}",
            self.path,
            response.status()
        );
        Ok(response.json().await.unwrap_or(Value::Null))
    }
}

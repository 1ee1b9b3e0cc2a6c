//! Watching a pull subscription on the emulator for one message, through the emulator's
//! REST face (short pulls, so the deadline is ours). On the dead-letter subscription only
//! the message looked for is acknowledged — the others are someone's record of a failure;
//! on the events watch, which is the tour's own feed, older events are consumed.

use std::collections::BTreeMap;
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

/// One subscription on the emulator.
pub struct Watch {
    http: reqwest::Client,
    path: String,
    consume_others: bool,
}

impl Watch {
    /// `subscription` of `project` on the emulator at `host`; `consume_others`: acknowledge
    /// the messages not looked for, rather than hand them back.
    pub fn new(host: &str, project: &str, subscription: &str, consume_others: bool) -> Self {
        Self {
            http: reqwest::Client::new(),
            path: format!("http://{host}/v1/projects/{project}/subscriptions/{subscription}"),
            consume_others,
        }
    }

    /// The first message for which `wanted` holds, acknowledged; an error after `timeout`.
    pub async fn next(
        &self,
        timeout: Duration,
        wanted: impl Fn(&Pulled) -> bool,
    ) -> anyhow::Result<Pulled> {
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
                    found = found.or(ours.then_some(pulled));
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
        anyhow::bail!("nothing arrived on {} within {timeout:?}", self.path)
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

//! Everything the stack says back during a fault scenario: the follow-up events on the watch
//! subscription and every service's dead letters, pulled (and acknowledged) all along, so
//! that an emulator restart loses only what was still in flight, not what was already out.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

/// One message pulled from a subscription.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub subscription: String,
    pub attributes: BTreeMap<String, String>,
    pub data: Vec<u8>,
}

impl Pulled {
    /// `ce-type`, or "" (a budget notification has none).
    pub fn ty(&self) -> &str {
        self.attributes.get("ce-type").map_or("", String::as_str)
    }

    /// A string field of the JSON payload, or "".
    pub fn field(&self, name: &str) -> String {
        let value: Value = serde_json::from_slice(&self.data).unwrap_or_default();
        value[name].as_str().unwrap_or_default().to_owned()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Pulls every given subscription until stopped; what came is in [`Collector::seen`].
pub struct Collector {
    seen: Arc<Mutex<Vec<Pulled>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Collector {
    pub fn start(host: &str, project: &str, subscriptions: Vec<String>) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (into, base) = (
            seen.clone(),
            format!("http://{host}/v1/projects/{project}/subscriptions"),
        );
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                for sub in &subscriptions {
                    // An emulator being restarted answers nothing: try again next round.
                    if let Ok(got) = pull(&http, &format!("{base}/{sub}")).await {
                        let got = got.into_iter().map(|(attributes, data)| Pulled {
                            subscription: sub.clone(),
                            attributes,
                            data,
                        });
                        into.lock().unwrap().extend(got);
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Self { seen, task }
    }

    /// Everything pulled so far.
    pub fn seen(&self) -> Vec<Pulled> {
        self.seen.lock().unwrap().clone()
    }

    /// How many messages have been pulled so far, readable from another task.
    pub fn counter(&self) -> impl Fn() -> usize + Send + 'static {
        let seen = self.seen.clone();
        move || seen.lock().unwrap().len()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Message = (BTreeMap<String, String>, Vec<u8>);

async fn pull(http: &reqwest::Client, url: &str) -> Result<Vec<Message>, reqwest::Error> {
    let body = json!({ "maxMessages": 100, "returnImmediately": true });
    let reply: Value = http
        .post(format!("{url}:pull"))
        .json(&body)
        .timeout(Duration::from_secs(5))
        .send()
        .await?
        .json()
        .await?;
    let mut got = Vec::new();
    for received in reply["receivedMessages"].as_array().into_iter().flatten() {
        let ack = json!({ "ackIds": [received["ackId"]] });
        http.post(format!("{url}:acknowledge"))
            .json(&ack)
            .timeout(Duration::from_secs(5))
            .send()
            .await?;
        let message = &received["message"];
        got.push((
            serde_json::from_value(message["attributes"].clone()).unwrap_or_default(),
            base64::engine::general_purpose::STANDARD
                .decode(message["data"].as_str().unwrap_or_default())
                .unwrap_or_default(),
        ));
    }
    Ok(got)
}

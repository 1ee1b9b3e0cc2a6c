//! [`Publisher`] that touches nothing: it records each publish into a [`Plan`] (dry-run
//! replay) and keeps the messages (handler tests).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use base64::{engine::general_purpose::STANDARD, Engine as _};
use events::Message;
use serde_json::{json, Value};

use super::{PublishError, Publisher};
use crate::backends::Plan;

/// Records publishes instead of sending them. Returns ids `recorded-1`, `recorded-2`, ….
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    plan: Plan,
    messages: Mutex<Vec<(String, Message)>>,
    next_id: AtomicU64,
    failing: AtomicBool,
}

impl RecordingPublisher {
    /// Records into `plan` (each publish as `{"backend": "publisher", "action": "publish",
    /// "topic", "attributes", "data"}`; `data` is the JSON payload when it parses, else the
    /// text, else `data_base64`).
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            ..Self::default()
        }
    }

    /// The plan this publisher records into.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The `(topic, message)` pairs published so far, in order.
    pub fn messages(&self) -> Vec<(String, Message)> {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every message published so far as one line of text (topic, attributes, data), for
    /// asserting that something (a secret) appears in none of them.
    pub fn transcript(&self) -> Vec<String> {
        self.messages()
            .iter()
            .map(|(topic, m)| {
                format!(
                    "{topic} {:?} {}",
                    m.attributes,
                    String::from_utf8_lossy(&m.data)
                )
            })
            .collect()
    }

    /// The messages published to `topic` so far, in order.
    pub fn messages_to(&self, topic: &str) -> Vec<Message> {
        self.messages()
            .into_iter()
            .filter(|(t, _)| t == topic)
            .map(|(_, m)| m)
            .collect()
    }

    /// The events published so far, in order, as `(ce-type, ce-id, payload)`; a payload that
    /// is not JSON reads as `null`, a missing attribute as `""`.
    pub fn events(&self) -> Vec<(String, String, Value)> {
        self.messages()
            .into_iter()
            .map(|(_, m)| {
                let attribute = |k: &str| m.attributes.get(k).cloned().unwrap_or_default();
                (
                    attribute("ce-type"),
                    attribute("ce-id"),
                    serde_json::from_slice(&m.data).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// While `failing`, every publish fails (and records nothing), as when the bus is down.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl Publisher for RecordingPublisher {
    async fn publish(&self, topic: &str, message: Message) -> Result<String, PublishError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PublishError {
                topic: topic.to_owned(),
                reason: "the bus is down (test)".to_owned(),
            });
        }
        let mut action = json!({
            "backend": "publisher",
            "action": "publish",
            "topic": topic,
            "attributes": message.attributes,
        });
        match (
            serde_json::from_slice::<Value>(&message.data),
            std::str::from_utf8(&message.data),
        ) {
            (Ok(value), _) => action["data"] = value,
            (Err(_), Ok(text)) => action["data"] = json!(text),
            (Err(_), Err(_)) => action["data_base64"] = json!(STANDARD.encode(&message.data)),
        }
        if let Some(key) = &message.ordering_key {
            action["ordering_key"] = json!(key);
        }
        self.plan.record(action);
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((topic.to_owned(), message));
        Ok(format!(
            "recorded-{}",
            self.next_id.fetch_add(1, Ordering::SeqCst) + 1
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn message(data: &[u8]) -> Message {
        Message {
            data: data.to_vec(),
            attributes: BTreeMap::from([("k".to_owned(), "v".to_owned())]),
            ordering_key: None,
        }
    }

    #[tokio::test]
    async fn records_json_text_and_binary_data_into_the_plan() {
        let plan = Plan::default();
        let publisher = RecordingPublisher::new(plan.clone());
        assert_eq!(
            publisher
                .publish("a", message(br#"{"n":1}"#))
                .await
                .expect("publish"),
            "recorded-1"
        );
        assert_eq!(
            publisher
                .publish("b", message(b"plain"))
                .await
                .expect("publish"),
            "recorded-2"
        );
        publisher
            .publish("a", message(&[0xff, 0x00]))
            .await
            .expect("publish");

        let actions = plan.actions();
        assert_eq!(
            actions[0],
            json!({"backend": "publisher", "action": "publish", "topic": "a",
                   "attributes": {"k": "v"}, "data": {"n": 1}})
        );
        assert_eq!(actions[1]["data"], json!("plain"));
        assert_eq!(actions[2]["data_base64"], json!("/wA="));
        assert_eq!(publisher.messages_to("a").len(), 2);
        assert_eq!(publisher.messages()[1], ("b".to_owned(), message(b"plain")));
    }

    #[tokio::test]
    async fn a_failing_publisher_errors_and_records_nothing() {
        let publisher = RecordingPublisher::new(Plan::default());
        publisher.set_failing(true);
        let error = publisher
            .publish("t", message(b"x"))
            .await
            .expect_err("fails");
        assert_eq!(error.topic, "t");
        assert!(publisher.messages().is_empty());
        assert!(publisher.plan().actions().is_empty());
        publisher.set_failing(false);
        publisher
            .publish("t", message(b"x"))
            .await
            .expect("works again");
    }
}

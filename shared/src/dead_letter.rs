//! Forwarding a rejected delivery, with its reason, to the service's dead-letter topic.

use events::{Message, RawEvent};

use crate::{
    backends::publisher::{PublishError, Publisher},
    outcome::RejectKind,
};

/// Pub/Sub refuses attribute values over 1024 bytes.
const MAX_ATTRIBUTE_BYTES: usize = 1024;

/// The message to dead-letter for a decoded delivery: its payload and attributes, plus the
/// CloudEvents attributes of a CloudEvents delivery, so that replaying it reproduces the event.
pub fn original_message(raw: &RawEvent) -> Message {
    let mut attributes = raw.attributes.clone();
    for (key, value) in [
        ("ce-type", &raw.ty),
        ("ce-source", &raw.source),
        ("ce-id", &raw.id),
    ] {
        if !value.is_empty() {
            attributes
                .entry(key.to_owned())
                .or_insert_with(|| truncate(value));
        }
    }
    Message {
        data: raw.data.clone(),
        attributes,
        ordering_key: None,
    }
}

/// The message to dead-letter for a body that could not be decoded at all.
pub fn undecodable_message(body: &[u8], content_type: Option<&str>) -> Message {
    let mut message = Message {
        data: body.to_vec(),
        ..Message::default()
    };
    if let Some(content_type) = content_type {
        message
            .attributes
            .insert("content-type".to_owned(), truncate(content_type));
    }
    message
}

/// Publishes `message` to `topic` with `error-reason`, `error-type`, `error-service` and
/// `original-message-id` attributes. Returns the dead-letter message id.
pub async fn forward(
    publisher: &dyn Publisher,
    topic: &str,
    mut message: Message,
    kind: RejectKind,
    reason: &str,
    original_message_id: Option<&str>,
    service: &str,
) -> Result<String, PublishError> {
    let attrs = &mut message.attributes;
    attrs.insert("error-reason".to_owned(), truncate(reason));
    attrs.insert("error-type".to_owned(), kind.as_str().to_owned());
    attrs.insert("error-service".to_owned(), truncate(service));
    attrs.insert(
        "original-message-id".to_owned(),
        truncate(original_message_id.unwrap_or("unknown")),
    );
    publisher.publish(topic, message).await
}

fn truncate(value: &str) -> String {
    if value.len() <= MAX_ATTRIBUTE_BYTES {
        return value.to_owned();
    }
    let mut end = MAX_ATTRIBUTE_BYTES - 3;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_to_what_pubsub_accepts_on_a_char_boundary() {
        let reason = "é".repeat(700); // 1400 bytes
        let cut = truncate(&reason);
        assert!(cut.len() <= MAX_ATTRIBUTE_BYTES);
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn undecodable_bodies_keep_their_bytes_and_content_type() {
        let message = undecodable_message(b"{nope", Some("application/json"));
        assert_eq!(message.data, b"{nope");
        assert_eq!(message.attributes["content-type"], "application/json");
    }
}

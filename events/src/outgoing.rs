//! What we publish: our events as Pub/Sub messages in the CloudEvents Pub/Sub binding.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::TypedEvent;

/// A Pub/Sub message, independent of any client library.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The payload bytes.
    pub data: Vec<u8>,
    /// The attributes.
    pub attributes: BTreeMap<String, String>,
    /// The ordering key, if any.
    pub ordering_key: Option<String>,
}

/// One of our events, ready to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEvent {
    /// CloudEvents `type`.
    pub ty: &'static str,
    /// CloudEvents `source`, e.g. `//groundskeeper/env-provisioner`.
    pub source: String,
    /// CloudEvents `id`, unique per source; a retry of the same logical event keeps its id.
    pub id: String,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// The JSON payload.
    pub data: Vec<u8>,
}

impl OutgoingEvent {
    /// Builds an outgoing event from one of our payloads.
    pub fn new<T: TypedEvent>(
        source: impl Into<String>,
        id: impl Into<String>,
        payload: &T,
    ) -> Self {
        Self {
            ty: T::TYPE,
            source: source.into(),
            id: id.into(),
            time: Utc::now(),
            // Serialising our own derive(Serialize) structs to a Vec cannot fail.
            data: serde_json::to_vec(payload).unwrap_or_default(),
        }
    }

    /// The Pub/Sub message, with `ce-*` attributes as in the CloudEvents Pub/Sub binding.
    pub fn into_message(self) -> Message {
        let attributes = BTreeMap::from([
            ("ce-specversion".to_owned(), "1.0".to_owned()),
            ("ce-type".to_owned(), self.ty.to_owned()),
            ("ce-source".to_owned(), self.source),
            ("ce-id".to_owned(), self.id),
            ("ce-time".to_owned(), self.time.to_rfc3339()),
            ("content-type".to_owned(), "application/json".to_owned()),
        ]);
        Message {
            data: self.data,
            attributes,
            ordering_key: None,
        }
    }
}

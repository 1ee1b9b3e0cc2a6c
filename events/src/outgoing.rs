//! What we publish: our events as Pub/Sub messages in the CloudEvents Pub/Sub binding.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cloudevents::event::SpecVersion;
use cloudevents::message::{
    BinaryDeserializer, BinarySerializer, MessageAttributeValue, Result as SdkResult,
};
use cloudevents::{AttributesWriter, Data, EventBuilder, EventBuilderV10};

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

    /// The event as a CloudEvent (the SDK's type), data as `application/json`.
    pub fn into_cloudevent(self) -> cloudevents::Event {
        let mut event = EventBuilderV10::new()
            .id(self.id)
            .ty(self.ty)
            // A placeholder the builder accepts; the real source is set below, past the
            // builder's refusal of an empty one, so an empty source is published as given
            // (and refused by the receiver, as before) rather than lost.
            .source("//groundskeeper")
            .time(self.time)
            .data(JSON, Data::Binary(self.data))
            .build()
            // Cannot fail: every required attribute is set and none needs parsing.
            .unwrap_or_default();
        event.set_source(self.source);
        event
    }

    /// The Pub/Sub message, with `ce-*` attributes as in the CloudEvents Pub/Sub binding
    /// (the SDK has no Pub/Sub binding; `PubsubBinding` below is ours, on its serializer trait).
    pub fn into_message(self) -> Message {
        // Cannot fail: PubsubBinding never refuses, and binary data needs no serialising.
        self.into_cloudevent()
            .deserialize_binary(PubsubBinding::default())
            .unwrap_or_default()
    }
}

const JSON: &str = "application/json";

/// The CloudEvents Pub/Sub protocol binding, binary mode: each context attribute and
/// extension becomes a `ce-<name>` attribute, `datacontenttype` the `content-type` one.
#[derive(Default)]
struct PubsubBinding(Message);

impl PubsubBinding {
    fn with(mut self, name: String, value: &MessageAttributeValue) -> Self {
        self.0.attributes.insert(name, value.to_string());
        self
    }
}

impl BinarySerializer<Message> for PubsubBinding {
    fn set_spec_version(self, version: SpecVersion) -> SdkResult<Self> {
        let version = MessageAttributeValue::String(version.to_string());
        Ok(self.with("ce-specversion".to_owned(), &version))
    }

    fn set_attribute(self, name: &str, value: MessageAttributeValue) -> SdkResult<Self> {
        let name = match name {
            "datacontenttype" => "content-type".to_owned(),
            _ => format!("ce-{name}"),
        };
        Ok(self.with(name, &value))
    }

    fn set_extension(self, name: &str, value: MessageAttributeValue) -> SdkResult<Self> {
        Ok(self.with(format!("ce-{name}"), &value))
    }

    fn end_with_data(mut self, bytes: Vec<u8>) -> SdkResult<Message> {
        self.0.data = bytes;
        Ok(self.0)
    }

    fn end(self) -> SdkResult<Message> {
        Ok(self.0)
    }
}

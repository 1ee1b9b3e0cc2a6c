//! The decoded event and the payload traits.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};

/// How a delivery reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryForm {
    /// Pub/Sub push with the JSON wrapper (`{"message": {...}, "subscription": ...}`).
    PushWrapped,
    /// Pub/Sub push with payload unwrapping: the body is the payload, attributes are headers.
    PushUnwrapped,
    /// A CloudEvent in binary mode (`ce-*` headers).
    CloudEventBinary,
    /// A CloudEvent in structured mode (`application/cloudevents+json`).
    CloudEventStructured,
    /// A Cloud Scheduler HTTP-target request (`X-CloudScheduler-*` headers).
    SchedulerHttp,
    /// Read from a file by an operator (`replay --type T`).
    Bare,
}

/// What Pub/Sub said about the message, when the delivery came through Pub/Sub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PubsubMeta {
    /// The server-assigned message id.
    pub message_id: String,
    /// When Pub/Sub accepted the message.
    pub publish_time: Option<DateTime<Utc>>,
    /// The ordering key, when the publisher set one.
    pub ordering_key: Option<String>,
    /// The full subscription name (`projects/P/subscriptions/S`), when known.
    pub subscription: Option<String>,
}

/// A delivery decoded from its envelope, with its payload still as bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawEvent {
    /// Event id: CloudEvents `id` (or `ce-id` attribute), else the Pub/Sub message id.
    pub id: String,
    /// Event source: CloudEvents `source`, else the subscription or topic.
    pub source: String,
    /// Event type, e.g. `dev.groundskeeper.environment.requested.v1`. Google notifications
    /// that carry no type get the constants in [`crate::types`].
    #[serde(rename = "type")]
    pub ty: String,
    /// When the event happened, if the sender said.
    pub time: Option<DateTime<Utc>>,
    /// CloudEvents `subject`, if any.
    pub subject: Option<String>,
    /// Pub/Sub message attributes (or the relevant headers), as received.
    pub attributes: BTreeMap<String, String>,
    /// Pub/Sub's delivery attempt counter (only set when a dead-letter policy exists).
    pub delivery_attempt: Option<u32>,
    /// The payload bytes, base64 already decoded.
    #[serde(serialize_with = "serialize_data")]
    pub data: Vec<u8>,
    /// Pub/Sub metadata, when the event came through Pub/Sub.
    pub pubsub: Option<PubsubMeta>,
    /// How it arrived.
    pub form: DeliveryForm,
}

fn serialize_data<S: serde::Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(json) => json.serialize(s),
        Err(_) => String::from_utf8_lossy(data).serialize(s),
    }
}

/// A decoded event with typed data: what a handler receives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event<T> {
    /// See [`RawEvent::id`].
    pub id: String,
    /// See [`RawEvent::source`].
    pub source: String,
    /// See [`RawEvent::ty`].
    #[serde(rename = "type")]
    pub ty: String,
    /// See [`RawEvent::time`].
    pub time: Option<DateTime<Utc>>,
    /// See [`RawEvent::attributes`].
    pub attributes: BTreeMap<String, String>,
    /// See [`RawEvent::delivery_attempt`].
    pub delivery_attempt: Option<u32>,
    /// See [`RawEvent::pubsub`].
    pub pubsub: Option<PubsubMeta>,
    /// The typed payload.
    pub data: T,
}

/// Why a delivery could not become an event. Every variant names what was wrong, so the
/// message can go to the dead-letter topic as the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The request is not any delivery form we know.
    #[error("unrecognised delivery: {0}")]
    UnrecognisedDelivery(String),
    /// A required field of the envelope is missing.
    #[error("envelope field `{0}` is missing")]
    MissingField(&'static str),
    /// A field of the envelope is malformed.
    #[error("envelope field `{field}` is invalid: {reason}")]
    InvalidField {
        /// The field's name as it appears on the wire.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The message carries no event type and is no Google notification we recognise.
    #[error("event type is missing: set the `ce-type` attribute (or header)")]
    MissingType,
    /// This service does not handle the event's type.
    #[error("event type `{ty}` is not handled here; accepted: {accepted}")]
    UnknownType {
        /// The type that arrived.
        ty: String,
        /// The accepted types, comma separated.
        accepted: String,
    },
    /// The payload is not valid for its type (JSON syntax, schema or validation).
    #[error("payload of `{ty}` is invalid: {reason}")]
    InvalidPayload {
        /// The event type.
        ty: String,
        /// What is wrong, naming the field where possible.
        reason: String,
    },
}

/// A payload type a handler accepts: one event type or several (an enum).
pub trait Payload: Sized + Send + Sync + 'static {
    /// The event types this payload decodes.
    fn accepts() -> &'static [&'static str];

    /// Decodes the payload of `raw`, whose type is one of [`Payload::accepts`].
    fn decode(raw: &RawEvent) -> Result<Self, DecodeError>;

    /// A natural idempotency key (e.g. a schedule window), when the payload has one that is
    /// better than the delivery's id. Two deliveries with the same key run once.
    fn idempotency_key(&self) -> Option<String> {
        None
    }
}

/// One of our own JSON event types, with a fixed CloudEvents type.
pub trait TypedEvent: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The CloudEvents type, e.g. `dev.groundskeeper.environment.requested.v1`.
    const TYPE: &'static str;

    /// Checks invariants serde cannot express (names, ranges). The error names the field.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// See [`Payload::idempotency_key`].
    fn idempotency_key(&self) -> Option<String> {
        None
    }
}

impl<T: TypedEvent> Payload for T {
    fn accepts() -> &'static [&'static str] {
        std::slice::from_ref(&T::TYPE)
    }

    fn decode(raw: &RawEvent) -> Result<Self, DecodeError> {
        let invalid = |reason: String| DecodeError::InvalidPayload {
            ty: raw.ty.clone(),
            reason,
        };
        // serde would accept a JSON array for a struct (fields by position); ours are objects.
        if raw.data.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(invalid("expected a JSON object".to_owned()));
        }
        let value: T = serde_json::from_slice(&raw.data).map_err(|e| invalid(e.to_string()))?;
        value.validate().map_err(invalid)?;
        Ok(value)
    }

    fn idempotency_key(&self) -> Option<String> {
        TypedEvent::idempotency_key(self)
    }
}

impl RawEvent {
    /// Decodes the payload into `T`, refusing types `T` does not accept.
    pub fn typed<T: Payload>(self) -> Result<Event<T>, DecodeError> {
        if !T::accepts().contains(&self.ty.as_str()) {
            return Err(DecodeError::UnknownType {
                ty: self.ty,
                accepted: T::accepts().join(", "),
            });
        }
        let data = T::decode(&self)?;
        Ok(Event {
            id: self.id,
            source: self.source,
            ty: self.ty,
            time: self.time,
            attributes: self.attributes,
            delivery_attempt: self.delivery_attempt,
            pubsub: self.pubsub,
            data,
        })
    }
}

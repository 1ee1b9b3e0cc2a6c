//! The Pub/Sub push wrapper: `{"message": {...}, "subscription": "...", "deliveryAttempt": N}`.
//!
//! Read leniently, as Google writes it: both camelCase and snake_case spellings (camelCase
//! wins when both are present), absent keys rather than nulls, `data` absent when only
//! attributes were published, unknown fields ignored. The same wrapper is the `data` of
//! Eventarc's `messagePublished` CloudEvents.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::headers::parse_time;
use super::resolve::{self, Outer};
use crate::{DecodeError, DeliveryForm, RawEvent};

/// Standard base64 (what Pub/Sub sends), accepting input with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One Pub/Sub message, however it arrived.
pub(super) struct PubsubMessage {
    pub data: Vec<u8>,
    pub attributes: BTreeMap<String, String>,
    pub message_id: String,
    pub publish_time: Option<DateTime<Utc>>,
    pub ordering_key: Option<String>,
}

/// Whether `body` is a JSON object with a `message` object: the wrapper, not a payload.
pub(super) fn looks_wrapped(body: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<Value>(body),
        Ok(Value::Object(map)) if matches!(map.get("message"), Some(Value::Object(_)))
    )
}

/// Decodes a wrapped push body (already parsed to a JSON object).
pub(super) fn wrapped(body: &Map<String, Value>) -> Result<RawEvent, DecodeError> {
    let (message, subscription, attempt) = parse_wrapper(body)?;
    let outer = Outer {
        source: None,
        time: None,
    };
    resolve::pubsub_event(
        message,
        subscription,
        attempt,
        DeliveryForm::PushWrapped,
        outer,
    )
}

/// The message, subscription and delivery attempt of a push wrapper.
pub(super) fn parse_wrapper(
    body: &Map<String, Value>,
) -> Result<(PubsubMessage, Option<String>, Option<u32>), DecodeError> {
    let message = match body.get("message") {
        Some(Value::Object(message)) => message,
        Some(_) => return Err(invalid("message", "is not a JSON object".into())),
        None => return Err(DecodeError::MissingField("message")),
    };
    let subscription = string(body, &["subscription"], "subscription")?;
    let attempt = match first(body, &["deliveryAttempt", "delivery_attempt"]) {
        None => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid("deliveryAttempt", format!("{value} is not a count")))?,
        ),
    };
    Ok((parse_message(message)?, subscription, attempt))
}

fn parse_message(message: &Map<String, Value>) -> Result<PubsubMessage, DecodeError> {
    let data = match string(message, &["data"], "message.data")? {
        None => Vec::new(),
        Some(text) => BASE64
            .decode(text.as_bytes())
            .map_err(|e| invalid("message.data", format!("is not base64 ({e})")))?,
    };
    let mut attributes = BTreeMap::new();
    match message.get("attributes") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                let Value::String(value) = value else {
                    let reason = format!("attribute `{key}` is {value}, not a string");
                    return Err(invalid("message.attributes", reason));
                };
                attributes.insert(key.clone(), value.clone());
            }
        }
        Some(_) => return Err(invalid("message.attributes", "is not a JSON object".into())),
    }
    let message_id = string(message, &["messageId", "message_id"], "message.messageId")?
        .filter(|id| !id.is_empty())
        .ok_or(DecodeError::MissingField("message.messageId"))?;
    let publish_time = string(
        message,
        &["publishTime", "publish_time"],
        "message.publishTime",
    )?
    .map(|t| parse_time("message.publishTime", &t))
    .transpose()?;
    let ordering_key = string(
        message,
        &["orderingKey", "ordering_key"],
        "message.orderingKey",
    )?
    .filter(|key| !key.is_empty());
    Ok(PubsubMessage {
        data,
        attributes,
        message_id,
        publish_time,
        ordering_key,
    })
}

fn first<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| map.get(*k))
        .find(|v| !v.is_null())
}

fn string(
    map: &Map<String, Value>,
    keys: &[&str],
    field: &'static str,
) -> Result<Option<String>, DecodeError> {
    match first(map, keys) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(field, format!("{other} is not a string"))),
    }
}

fn invalid(field: &'static str, reason: String) -> DecodeError {
    DecodeError::InvalidField { field, reason }
}

//! Pub/Sub push with payload unwrapping and *write metadata*: the body is the payload, the
//! message metadata comes as `x-goog-pubsub-*` headers and each attribute as a header.

use std::collections::BTreeMap;

use http::HeaderMap;

use super::headers::{is_transport, parse_time, text};
use super::push::PubsubMessage;
use super::resolve::{self, Outer};
use crate::{DecodeError, DeliveryForm, RawEvent};

/// The header that marks an unwrapped push (written by *write metadata*).
pub(super) const MESSAGE_ID: &str = "x-goog-pubsub-message-id";
const PUBLISH_TIME: &str = "x-goog-pubsub-publish-time";
const SUBSCRIPTION: &str = "x-goog-pubsub-subscription-name";

/// Decodes an unwrapped push.
pub(super) fn decode(headers: &HeaderMap, body: &[u8]) -> Result<RawEvent, DecodeError> {
    let message_id = text(headers, MESSAGE_ID)?
        .filter(|id| !id.is_empty())
        .ok_or(DecodeError::MissingField(MESSAGE_ID))?
        .to_owned();
    let publish_time = text(headers, PUBLISH_TIME)?
        .map(|t| parse_time(PUBLISH_TIME, t))
        .transpose()?;
    let subscription = text(headers, SUBSCRIPTION)?.map(str::to_owned);
    let message = PubsubMessage {
        data: body.to_vec(),
        attributes: attributes(headers)?,
        message_id,
        publish_time,
        ordering_key: None,
    };
    let outer = Outer {
        source: None,
        time: None,
    };
    resolve::pubsub_event(
        message,
        subscription,
        None,
        DeliveryForm::PushUnwrapped,
        outer,
    )
}

/// Every header that is not transport or Google metadata, as an attribute. Names are
/// lowercase (HTTP), so lookups go through [`RawEvent::attribute`], which ignores case.
fn attributes(headers: &HeaderMap) -> Result<BTreeMap<String, String>, DecodeError> {
    let mut attributes = BTreeMap::new();
    for (name, value) in headers {
        if is_transport(name.as_str()) {
            continue;
        }
        let value = value.to_str().map_err(|_| DecodeError::InvalidField {
            field: "attributes",
            reason: format!("header `{name}` is not visible ASCII"),
        })?;
        attributes.insert(name.as_str().to_owned(), value.to_owned());
    }
    Ok(attributes)
}

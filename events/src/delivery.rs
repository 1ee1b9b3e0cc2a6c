//! Decoding every delivery form into a [`RawEvent`].
//!
//! [`decode`] recognises the form from the request alone, in this order:
//!
//! 1. **Cloud Scheduler HTTP target**: an `X-CloudScheduler` header. The job sets `ce-type`
//!    (and optionally `ce-source`) as custom headers and the payload as its body. The id is
//!    `<job name>/<schedule time>`, so Scheduler's own retries of one run share it.
//! 2. **Pub/Sub push, unwrapped**: an `x-goog-pubsub-message-id` header (the subscription
//!    has payload unwrapping with *write metadata* on; without it the attributes, and with
//!    them the event type, are lost, and the delivery cannot be recognised). The body is the
//!    payload; the headers other than transport ones are the attributes (lowercased by HTTP).
//! 3. **Binary CloudEvent**: `ce-type` / `ce-specversion` headers (any case). An Eventarc
//!    `google.cloud.pubsub.topic.v1.messagePublished` event is unwrapped to its Pub/Sub
//!    message; any other type is a plain CloudEvent whose body is the payload.
//! 4. **Structured CloudEvent**: `Content-Type: application/cloudevents+json`, or a JSON body
//!    with `specversion` (a replay file has no headers). Unwrapped like binary mode.
//! 5. **Pub/Sub push, wrapped**: a JSON body with a `message` object. Also what a Cloud
//!    Scheduler job with a Pub/Sub target produces.
//!
//! For a Pub/Sub message the event is resolved from its attributes (the CloudEvents Pub/Sub
//! binding our publisher uses): `ce-type`, `ce-id`, `ce-source`, `ce-time`, `ce-subject`.
//! Without `ce-type`, a Cloud Billing budget notification (`billingAccountId` + `budgetId`)
//! gets [`crate::types::BUDGET_NOTIFICATION`] and a Secret Manager notification (`eventType` +
//! `secretId`) gets [`crate::types::SECRET_MANAGER_NOTIFICATION`]; anything else is
//! [`DecodeError::MissingType`]. The id falls back to the Pub/Sub message id and the source
//! to `//pubsub.googleapis.com/<subscription>`.

mod cloudevent;
mod headers;
mod push;
mod resolve;
mod scheduler;
mod unwrapped;

use std::collections::BTreeMap;

use crate::{DecodeError, DeliveryForm, RawEvent};

/// Decodes an HTTP delivery (any form in [`crate::DeliveryForm`]) into a [`RawEvent`].
/// Never panics; every error names what is wrong.
pub fn decode(headers: &http::HeaderMap, body: &[u8]) -> Result<RawEvent, DecodeError> {
    if scheduler::is_scheduler(headers) {
        return scheduler::decode(headers, body);
    }
    if headers.contains_key(unwrapped::MESSAGE_ID) && !push::looks_wrapped(body) {
        return unwrapped::decode(headers, body);
    }
    if headers.contains_key("ce-type") || headers.contains_key("ce-specversion") {
        return cloudevent::binary(headers, body);
    }
    let media_type = headers::media_type(headers);
    if media_type.as_deref() == Some("application/cloudevents+json") {
        return cloudevent::structured(body);
    }
    if media_type.as_deref() == Some("application/cloudevents-batch+json") {
        return Err(DecodeError::UnrecognisedDelivery(
            "batched CloudEvents (application/cloudevents-batch+json) are not supported".into(),
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) if map.contains_key("message") => push::wrapped(&map),
        Ok(serde_json::Value::Object(map)) if map.contains_key("specversion") => {
            cloudevent::structured(body)
        }
        Ok(_) => Err(unrecognised(
            "the JSON body has neither `message` nor `specversion`",
        )),
        Err(e) => Err(unrecognised(&format!("the body is not JSON ({e})"))),
    }
}

fn unrecognised(detail: &str) -> DecodeError {
    DecodeError::UnrecognisedDelivery(format!(
        "no X-CloudScheduler, x-goog-pubsub-message-id or ce-* headers, no \
         application/cloudevents+json content type, and {detail}"
    ))
}

/// A payload read from a file by an operator (`replay --type T`), as an event of type `ty`.
/// The id is a hash of type and payload, so replaying one file twice is one event to the
/// idempotency ledger; the source is `//groundskeeper/replay`.
pub fn bare(ty: &str, data: Vec<u8>) -> RawEvent {
    RawEvent::bare(ty, data)
}

impl RawEvent {
    /// See [`bare`].
    pub fn bare(ty: &str, data: Vec<u8>) -> RawEvent {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let hash = ty
            .as_bytes()
            .iter()
            .chain([0u8].iter())
            .chain(data.iter())
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
            });
        RawEvent {
            id: format!("bare-{hash:016x}"),
            source: "//groundskeeper/replay".into(),
            ty: ty.into(),
            time: None,
            subject: None,
            attributes: BTreeMap::new(),
            delivery_attempt: None,
            data,
            pubsub: None,
            form: DeliveryForm::Bare,
        }
    }

    /// An attribute's value. Exact name first, then ignoring case: attributes delivered as
    /// HTTP headers (unwrapped push) arrive lowercased, e.g. `billingaccountid`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        resolve::attribute(&self.attributes, name)
    }
}

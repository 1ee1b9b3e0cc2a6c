//! Turning a Pub/Sub message into an event: which type, id, source and time it has.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::headers::parse_time;
use super::push::PubsubMessage;
use crate::{types, DecodeError, DeliveryForm, PubsubMeta, RawEvent};

/// What an enclosing CloudEvent (Eventarc) says, used where the message says nothing.
pub(super) struct Outer {
    pub source: Option<String>,
    pub time: Option<DateTime<Utc>>,
}

/// An attribute by exact name, else ignoring ASCII case (headers arrive lowercased).
pub(crate) fn attribute<'a>(
    attributes: &'a BTreeMap<String, String>,
    name: &str,
) -> Option<&'a str> {
    attributes.get(name).map(String::as_str).or_else(|| {
        attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    })
}

/// The event type: `ce-type`, else a recognised Google notification, else an error.
fn event_type(
    attributes: &BTreeMap<String, String>,
    data: &[u8],
) -> Result<(String, bool), DecodeError> {
    let has = |name| attribute(attributes, name).is_some_and(|v| !v.is_empty());
    match attribute(attributes, "ce-type") {
        Some("") => Err(DecodeError::InvalidField {
            field: "ce-type",
            reason: "the attribute is empty".into(),
        }),
        Some(ty) => Ok((ty.to_owned(), true)),
        None if has("billingAccountId") && has("budgetId") => {
            Ok((types::BUDGET_NOTIFICATION.to_owned(), false))
        }
        None if has("eventType") && has("secretId") => {
            Ok((types::SECRET_MANAGER_NOTIFICATION.to_owned(), false))
        }
        None if attributes.is_empty() && is_budget_data(data) => {
            Ok((types::BUDGET_NOTIFICATION.to_owned(), false))
        }
        None => Err(DecodeError::MissingType),
    }
}

/// A budget notification's data published without any attribute: Google's documented test
/// message is published by hand this way. Typed as a budget notification so budget-guard can
/// ack it as the harmless test it is, instead of dead-lettering it as untyped.
fn is_budget_data(data: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        #[allow(dead_code)]
        budget_display_name: String,
        #[allow(dead_code)]
        cost_interval_start: String,
    }
    serde_json::from_slice::<Shape>(data).is_ok()
}

/// Builds the event for one Pub/Sub message.
pub(super) fn pubsub_event(
    message: PubsubMessage,
    subscription: Option<String>,
    delivery_attempt: Option<u32>,
    form: DeliveryForm,
    outer: Outer,
) -> Result<RawEvent, DecodeError> {
    let attrs = &message.attributes;
    let (ty, cloud_event) = event_type(attrs, &message.data)?;
    let ce = |name| {
        if cloud_event {
            attribute(attrs, name).filter(|v| !v.is_empty())
        } else {
            None
        }
    };
    let id = ce("ce-id").unwrap_or(&message.message_id).to_owned();
    let source = match (ce("ce-source"), &subscription, outer.source) {
        (Some(source), _, _) => source.to_owned(),
        (None, Some(subscription), _) => format!("//pubsub.googleapis.com/{subscription}"),
        (None, None, Some(outer)) => outer,
        (None, None, None) => "//pubsub.googleapis.com".to_owned(),
    };
    let time = match ce("ce-time") {
        Some(time) => Some(parse_time("ce-time", time)?),
        None => message.publish_time.or(outer.time),
    };
    let subject = ce("ce-subject").map(str::to_owned);
    Ok(RawEvent {
        id,
        source,
        ty,
        time,
        subject,
        delivery_attempt,
        pubsub: Some(PubsubMeta {
            message_id: message.message_id,
            publish_time: message.publish_time,
            ordering_key: message.ordering_key,
            subscription,
        }),
        attributes: message.attributes,
        data: message.data,
        form,
    })
}

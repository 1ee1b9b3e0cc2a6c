//! CloudEvents 1.0 over HTTP: binary mode (`ce-*` headers, body = data) and structured mode
//! (`application/cloudevents+json`, the whole event as JSON). An Eventarc Pub/Sub event
//! (`google.cloud.pubsub.topic.v1.messagePublished`) carries the push wrapper as its data and
//! is resolved from the wrapped message; any other type is a plain event of that type.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use serde_json::value::RawValue;

use super::headers::{parse_time, percent_decode, text};
use super::push::parse_wrapper;
use super::resolve::{pubsub_event, Outer};
use crate::{types, DecodeError, DeliveryForm, RawEvent};

/// The context attributes every CloudEvent has; the rest are extensions.
struct Context {
    id: String,
    source: String,
    ty: String,
    time: Option<DateTime<Utc>>,
    subject: Option<String>,
    extensions: BTreeMap<String, String>,
}

const CORE: &[&str] = &[
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "datacontenttype",
    "dataschema",
    "data",
    "data_base64",
];

/// Decodes a binary-mode CloudEvent.
pub(super) fn binary(headers: &HeaderMap, body: &[u8]) -> Result<RawEvent, DecodeError> {
    let header = |name: &'static str| -> Result<Option<String>, DecodeError> {
        Ok(text(headers, name)?.map(percent_decode))
    };
    let required = |name: &'static str| {
        header(name)?
            .filter(|v| !v.is_empty())
            .ok_or(DecodeError::MissingField(name))
    };
    check_version("ce-specversion", &required("ce-specversion")?)?;
    let mut extensions = BTreeMap::new();
    for (name, value) in headers {
        let Some(attr) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        if !CORE.contains(&attr) {
            if let Ok(value) = value.to_str() {
                extensions.insert(attr.to_owned(), percent_decode(value));
            }
        }
    }
    let context = Context {
        id: required("ce-id")?,
        source: required("ce-source")?,
        ty: required("ce-type")?,
        time: header("ce-time")?
            .map(|t| parse_time("ce-time", &t))
            .transpose()?,
        subject: header("ce-subject")?,
        extensions,
    };
    finish(context, body.to_vec(), DeliveryForm::CloudEventBinary)
}

/// Decodes a structured-mode CloudEvent.
pub(super) fn structured(body: &[u8]) -> Result<RawEvent, DecodeError> {
    let event: BTreeMap<String, Box<RawValue>> =
        serde_json::from_slice(body).map_err(|e| DecodeError::InvalidField {
            field: "body",
            reason: format!("a structured CloudEvent must be a JSON object ({e})"),
        })?;
    let string = |name: &'static str| -> Result<Option<String>, DecodeError> {
        match event
            .get(name)
            .map(|raw| serde_json::from_str::<Option<String>>(raw.get()))
        {
            None => Ok(None),
            Some(Ok(value)) => Ok(value),
            Some(Err(_)) => Err(DecodeError::InvalidField {
                field: name,
                reason: "is not a string".into(),
            }),
        }
    };
    let required = |name: &'static str| {
        string(name)?
            .filter(|v| !v.is_empty())
            .ok_or(DecodeError::MissingField(name))
    };
    check_version("specversion", &required("specversion")?)?;
    let data = match (event.get("data_base64"), event.get("data")) {
        (Some(_), _) => base64::engine::general_purpose::STANDARD
            .decode(string("data_base64")?.unwrap_or_default())
            .map_err(|e| DecodeError::InvalidField {
                field: "data_base64",
                reason: format!("is not base64 ({e})"),
            })?,
        (None, Some(raw)) if raw.get() == "null" => Vec::new(),
        (None, Some(raw)) => match (
            is_json(string("datacontenttype")?.as_deref()),
            string("data"),
        ) {
            (false, Ok(Some(text))) => text.into_bytes(),
            _ => raw.get().as_bytes().to_vec(),
        },
        (None, None) => Vec::new(),
    };
    let extensions = event
        .iter()
        .filter(|(name, _)| !CORE.contains(&name.as_str()))
        .map(|(name, raw)| {
            let value =
                serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned());
            (name.clone(), value)
        })
        .collect();
    let context = Context {
        id: required("id")?,
        source: required("source")?,
        ty: required("type")?,
        time: string("time")?
            .map(|t| parse_time("time", &t))
            .transpose()?,
        subject: string("subject")?,
        extensions,
    };
    finish(context, data, DeliveryForm::CloudEventStructured)
}

fn check_version(field: &'static str, version: &str) -> Result<(), DecodeError> {
    if version == "1.0" {
        return Ok(());
    }
    let reason = format!("{version:?} is not supported; only CloudEvents 1.0 is");
    Err(DecodeError::InvalidField { field, reason })
}

/// Whether `datacontenttype` says the data is JSON (absent means JSON, per the JSON format).
fn is_json(content_type: Option<&str>) -> bool {
    let Some(media) = content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }) else {
        return true;
    };
    media == "application/json" || media == "text/json" || media.ends_with("+json")
}

fn finish(context: Context, data: Vec<u8>, form: DeliveryForm) -> Result<RawEvent, DecodeError> {
    if context.ty == types::PUBSUB_MESSAGE_PUBLISHED {
        let wrapper =
            match serde_json::from_slice::<serde_json::Value>(&data) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => return Err(DecodeError::InvalidField {
                    field: "data",
                    reason:
                        "a messagePublished event's data must be the Pub/Sub push wrapper object"
                            .into(),
                }),
            };
        let (message, subscription, attempt) = parse_wrapper(&wrapper)?;
        let outer = Outer {
            source: Some(context.source),
            time: context.time,
        };
        return pubsub_event(message, subscription, attempt, form, outer);
    }
    Ok(RawEvent {
        id: context.id,
        source: context.source,
        ty: context.ty,
        time: context.time,
        subject: context.subject,
        attributes: context.extensions,
        delivery_attempt: None,
        data,
        pubsub: None,
        form,
    })
}

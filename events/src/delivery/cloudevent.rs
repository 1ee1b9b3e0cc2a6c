//! CloudEvents 1.0 over HTTP: binary mode (`ce-*` headers, body = data) and structured mode
//! (`application/cloudevents+json`, the whole event as JSON). An Eventarc Pub/Sub event
//! (`google.cloud.pubsub.topic.v1.messagePublished`) carries the push wrapper as its data and
//! is resolved from the wrapped message; any other type is a plain event of that type.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use cloudevents::{AttributesReader, Data};
use http::{HeaderMap, HeaderValue};
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

/// Decodes a binary-mode CloudEvent with the CloudEvents SDK's HTTP binding, which sorts the
/// `ce-*` headers into context attributes and extensions, parses the time and keeps the body
/// as the data byte for byte. In front of it, what the SDK does not do: only CloudEvents 1.0,
/// required attributes present and non-empty (checked first, so the error names the first
/// missing one as it always did), and `%XX` decoding of every value (see [`sdk_headers`]).
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
    for name in ["ce-id", "ce-source", "ce-type"] {
        required(name)?;
    }
    // Read here only to refuse a value that is not visible ASCII, naming the header.
    header("ce-subject")?;
    let time = header("ce-time")?;
    let time = time.as_deref();
    if let Some(t) = time.filter(|t| HeaderValue::from_str(t.trim()).is_err()) {
        // Decoded to control or non-ASCII characters, so not a header the SDK could read;
        // no RFC 3339 timestamp has those, and parse_time refuses it with our message.
        parse_time("ce-time", t)?;
    }
    let sdk = cloudevents::binding::http::to_event(&sdk_headers(headers, time), body.to_vec());
    let mut event = sdk.map_err(|e| {
        match &e {
            // Our message, naming the value as decoded (the SDK's names neither).
            cloudevents::message::Error::ParseTimeError { .. } => {
                parse_time("ce-time", time.unwrap_or_default()).err()
            }
            _ => None,
        }
        .unwrap_or_else(|| {
            DecodeError::UnrecognisedDelivery(format!(
                "the CloudEvents SDK refused the binary-mode event ({e})"
            ))
        })
    })?;
    let extensions = event
        .iter_extensions()
        .filter(|(name, _)| !CORE.contains(name))
        .map(|(name, value)| (name.to_owned(), percent_decode(&value.to_string())))
        .collect();
    let context = Context {
        id: percent_decode(event.id()),
        source: percent_decode(event.source()),
        ty: percent_decode(event.ty()),
        time: event.time().copied(),
        subject: event.subject().map(percent_decode),
        extensions,
    };
    let data = match event.take_data().2 {
        Some(Data::Binary(bytes)) => bytes,
        // The binary binding always gives the body as bytes, or none when it is empty.
        _ => body.to_vec(),
    };
    finish(context, data, DeliveryForm::CloudEventBinary)
}

/// The `ce-*` headers as the SDK should see them, so that it decodes what we always did:
/// - of a repeated header, the first for a context attribute (`HeaderMap::get`, as everywhere
///   else) and the last readable one for an extension (as our decoder always had it);
/// - context attributes trimmed, and `ce-time` already `%XX`-decoded: the SDK parses it
///   without decoding, and would refuse `10%3A00` where the binding allows the escape;
/// - no `ce-dataschema`: the SDK refuses one that is not an absolute URL (e.g.
///   `/schemas/t.json`), and we never read it, so it must not refuse a delivery;
/// - no extension whose value is not visible ASCII: the SDK refuses the whole event for it,
///   we have always dropped just that extension.
fn sdk_headers(headers: &HeaderMap, time: Option<&str>) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in headers.keys() {
        let Some(attr) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        let value = if CORE.contains(&attr) {
            headers.get(name).and_then(|v| v.to_str().ok())
        } else {
            headers
                .get_all(name)
                .iter()
                .rev()
                .find_map(|v| v.to_str().ok())
        };
        let Some(value) = value else {
            continue;
        };
        let value = match attr {
            "dataschema" => continue,
            "time" => time.unwrap_or_default().trim(),
            _ if CORE.contains(&attr) => value.trim(),
            _ => value,
        };
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// Decodes a structured-mode CloudEvent. Hand-written, not the SDK's: its JSON format reads
/// `data` into a `serde_json::Value` and so loses the bytes (`{"b":1.50,"a":[1, 2]}` comes
/// back as `{"a":[1,2],"b":1.5}`, and of duplicate keys only the last survives, where our
/// typed decoding refuses them); it refuses extensions that are objects, arrays or floats
/// (we keep their JSON text), a relative `dataschema`, and `data` next to `data_base64`.
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

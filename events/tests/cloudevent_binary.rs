//! Binary-mode CloudEvents at the edges of the HTTP binding: `%XX` escapes in `ce-*` headers,
//! and the headers the CloudEvents SDK would read differently from us (its decoder is kept
//! behind ours, so these pin what a delivery decoded to before it was introduced).

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use events::delivery::decode;
use events::{DecodeError, OutgoingEvent, RawEvent, TypedEvent};
use http::{HeaderMap, HeaderName, HeaderValue};

fn binary(extra: &[(&'static str, &[u8])]) -> Result<RawEvent, DecodeError> {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("ce-specversion", &b"1.0"[..]),
        ("ce-type", b"t"),
        ("ce-source", b"//s"),
    ] {
        headers.insert(name, HeaderValue::from_bytes(value).expect("value"));
    }
    for (name, value) in extra {
        let value = HeaderValue::from_bytes(value).expect("value");
        headers.append(HeaderName::from_static(name), value);
    }
    if !headers.contains_key("ce-id") {
        headers.insert("ce-id", HeaderValue::from_static("1"));
    }
    decode(&headers, b"{}")
}

#[test]
fn an_escape_is_a_percent_sign_and_two_hex_digits() {
    let event = binary(&[("ce-subject", b"a%+41%2541%41")]).expect("decodes");
    // `%+4` is no escape (a sign is not a hex digit); `%25` is `%`; `%41` is `A`.
    assert_eq!(event.subject.as_deref(), Some("a%+41%41A"));
}

#[test]
fn escapes_decode_to_utf8_or_the_value_stays_as_sent() {
    let event = binary(&[("ce-subject", b"caf%C3%A9"), ("ce-x", b"%e2%82")]).expect("decodes");
    assert_eq!(event.subject.as_deref(), Some("café"));
    assert_eq!(event.attributes["x"], "%e2%82");
}

#[test]
fn a_percent_encoded_time_is_decoded_before_it_is_parsed() {
    let event = binary(&[("ce-time", b"2024-05-01T10%3A00%3A00%2B02%3A00")]).expect("decodes");
    assert_eq!(
        event.time,
        Some(Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap())
    );
}

#[test]
fn a_bad_time_names_the_header_and_the_value() {
    let err = binary(&[("ce-time", b"yesterday")]).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "envelope field `ce-time` is invalid: \"yesterday\" is not an RFC 3339 timestamp \
         (premature end of input)"
    );
}

#[test]
fn a_relative_dataschema_does_not_refuse_the_delivery() {
    // CloudEvents 1.0 wants an absolute URI; we never read it, and did not refuse it before.
    let event = binary(&[("ce-dataschema", b"/schemas/t.json")]).expect("decodes");
    assert!(!event.attributes.contains_key("dataschema"));
}

#[test]
fn an_extension_header_that_is_not_ascii_is_dropped_not_refused() {
    let event = binary(&[("ce-x", b"\xff"), ("ce-y", b"ok")]).expect("decodes");
    assert_eq!(
        event.attributes,
        BTreeMap::from([("y".to_owned(), "ok".to_owned())])
    );
}

#[test]
fn the_first_of_repeated_headers_counts() {
    let event = binary(&[("ce-id", b"first"), ("ce-id", b"second")]).expect("decodes");
    assert_eq!(event.id, "first");
}

#[test]
fn the_last_readable_value_of_a_repeated_extension_counts() {
    let event = binary(&[("ce-x", b"a"), ("ce-x", b"b"), ("ce-x", b"\xff")]).expect("decodes");
    assert_eq!(event.attributes["x"], "b");
}

#[test]
fn core_attribute_names_are_never_extensions() {
    let event =
        binary(&[("ce-data", b"x"), ("ce-datacontenttype", b"text/plain")]).expect("decodes");
    assert!(event.attributes.is_empty(), "{:?}", event.attributes);
    assert_eq!(event.data, b"{}");
}

#[test]
fn empty_required_headers_are_missing() {
    for name in ["ce-id", "ce-source", "ce-type"] {
        let mut headers = HeaderMap::new();
        for (n, v) in [
            ("ce-specversion", "1.0"),
            ("ce-id", "1"),
            ("ce-source", "//s"),
            ("ce-type", "t"),
        ] {
            headers.insert(n, HeaderValue::from_static(v));
        }
        headers.insert(name, HeaderValue::from_static(""));
        let err = decode(&headers, b"{}").expect_err("refused");
        assert_eq!(err, DecodeError::MissingField(name));
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Ping {
    name: String,
}

impl TypedEvent for Ping {
    const TYPE: &'static str = "dev.groundskeeper.example.ping.v1";
}

#[test]
fn an_outgoing_event_has_the_cloudevents_pubsub_attributes() {
    let mut event = OutgoingEvent::new("//groundskeeper/test", "evt-1", &Ping { name: "a".into() });
    event.time = Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap();
    let message = event.into_message();
    let expected = [
        ("ce-specversion", "1.0"),
        ("ce-type", "dev.groundskeeper.example.ping.v1"),
        ("ce-source", "//groundskeeper/test"),
        ("ce-id", "evt-1"),
        ("ce-time", "2024-05-01T08:00:00+00:00"),
        ("content-type", "application/json"),
    ];
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(message.attributes, expected);
    assert_eq!(message.data, br#"{"name":"a"}"#);
    assert_eq!(message.ordering_key, None);
}

//! Every fixture in `fixtures/delivery/` decodes to exactly the event (or the error) it
//! names. Each file is one HTTP request (`headers`, and `body` as JSON or `body_text`) with
//! `expect` (the decoded event, serialised) or `expect_error` (the error's message).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use events::delivery::decode;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/delivery");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/delivery exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

/// The request a fixture describes.
pub fn request(fixture: &Value) -> (HeaderMap, Vec<u8>) {
    let request = &fixture["request"];
    let mut headers = HeaderMap::new();
    for (name, value) in request["headers"].as_object().expect("headers object") {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("valid header name");
        let value = HeaderValue::from_str(value.as_str().expect("string header")).expect("value");
        headers.append(name, value);
    }
    let body = match (&request["body"], &request["body_text"]) {
        (Value::Null, Value::String(text)) => text.as_bytes().to_vec(),
        (body, Value::Null) => serde_json::to_vec(body).expect("serialisable"),
        _ => panic!("a fixture has either `body` or `body_text`"),
    };
    (headers, body)
}

#[test]
fn every_delivery_fixture_decodes_as_expected() {
    let files = fixtures();
    assert!(
        files.len() >= 30,
        "expected the full fixture set, found {}",
        files.len()
    );
    let mut forms = BTreeSet::new();
    for path in files {
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let fixture: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("readable")).expect("JSON");
        let (headers, body) = request(&fixture);
        let result = decode(&headers, &body);
        match (&fixture["expect"], &fixture["expect_error"]) {
            (Value::Object(_), Value::Null) => {
                let event = result.unwrap_or_else(|e| panic!("{name}: failed to decode: {e}"));
                let actual = serde_json::to_value(&event).expect("serialisable event");
                assert_eq!(actual, fixture["expect"], "{name}: decoded event differs");
                forms.insert(actual["form"].as_str().expect("form").to_owned());
            }
            (Value::Null, Value::String(message)) => match result {
                Ok(event) => panic!("{name}: decoded, but should fail with {message:?}: {event:?}"),
                Err(e) => assert_eq!(&e.to_string(), message, "{name}: wrong error"),
            },
            _ => panic!("{name}: a fixture has either `expect` or `expect_error`"),
        }
    }
    let all = [
        "cloud-event-binary",
        "cloud-event-structured",
        "push-unwrapped",
        "push-wrapped",
        "scheduler-http",
    ];
    assert_eq!(
        forms,
        all.iter().map(|f| f.to_string()).collect(),
        "a delivery form has no fixture"
    );
}

#[test]
fn decoding_never_panics_on_truncated_or_mangled_requests() {
    for path in fixtures() {
        let fixture: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("readable")).expect("JSON");
        let (headers, body) = request(&fixture);
        for cut in 0..body.len() {
            let _ = decode(&headers, &body[..cut]);
            let _ = decode(&HeaderMap::new(), &body[..cut]);
        }
        let mut flipped = body.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0x55;
            let _ = decode(&headers, &flipped);
            flipped[i] ^= 0x55;
        }
    }
    let mut headers = HeaderMap::new();
    headers.insert("ce-subject", HeaderValue::from_static("%"));
    headers.insert("ce-type", HeaderValue::from_static("%zz%e2%82"));
    headers.insert(
        "ce-specversion",
        HeaderValue::from_bytes(b"\xff1.0").expect("opaque value"),
    );
    let err = decode(&headers, b"").expect_err("non-ASCII specversion is refused");
    assert_eq!(
        err.to_string(),
        "envelope field `ce-specversion` is invalid: the header value is not visible ASCII"
    );
}

#[test]
fn a_structured_cloudevent_keeps_its_data_bytes_exactly() {
    let body =
        br#"{"specversion":"1.0","type":"t","source":"//s","id":"1","data":{"b":1.50,"a":[1, 2]}}"#;
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/cloudevents+json"),
    );
    let event = decode(&headers, body).expect("decodes");
    assert_eq!(event.data, br#"{"b":1.50,"a":[1, 2]}"#);
}

#[test]
fn a_text_structured_cloudevent_has_its_string_as_data() {
    let body = br#"{"specversion":"1.0","type":"t","source":"//s","id":"1","datacontenttype":"text/plain","data":"hi \"there\""}"#;
    let event = decode(&HeaderMap::new(), body).expect("decodes");
    assert_eq!(event.data, b"hi \"there\"");
}

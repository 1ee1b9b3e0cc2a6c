//! Structured-mode CloudEvents (`application/cloudevents+json`), including Eventarc's
//! Pub/Sub wrapper. Input: the body.
#![no_main]
use http::{header::CONTENT_TYPE, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/cloudevents+json; charset=utf-8"),
    );
    if let Ok(raw) = events::delivery::decode(&headers, body) {
        groundskeeper_fuzz::check(raw);
    }
});

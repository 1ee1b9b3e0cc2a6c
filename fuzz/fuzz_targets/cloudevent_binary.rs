//! Binary-mode CloudEvents (`ce-*` headers), including Eventarc's Pub/Sub wrapper. Input:
//! headers, empty line, body; the markers of the forms tried before it are removed and a
//! `ce-specversion` added when no `ce-type`/`ce-specversion` is present.
#![no_main]
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut headers, body) = groundskeeper_fuzz::request(data);
    headers.remove("x-cloudscheduler");
    headers.remove("x-goog-pubsub-message-id");
    if !headers.contains_key("ce-type") && !headers.contains_key("ce-specversion") {
        headers.insert("ce-specversion", HeaderValue::from_static("1.0"));
    }
    if let Ok(raw) = events::delivery::decode(&headers, body) {
        groundskeeper_fuzz::check(raw);
    }
});

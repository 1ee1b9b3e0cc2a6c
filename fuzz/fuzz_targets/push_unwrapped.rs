//! Pub/Sub push with payload unwrapping: attributes and metadata as headers, the payload as
//! body. Input: headers, empty line, body; `x-goog-pubsub-message-id` is added when absent so
//! every input takes this path.
#![no_main]
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut headers, body) = groundskeeper_fuzz::request(data);
    headers.remove("x-cloudscheduler");
    if !headers.contains_key("x-goog-pubsub-message-id") {
        headers.insert("x-goog-pubsub-message-id", HeaderValue::from_static("1"));
    }
    if let Ok(raw) = events::delivery::decode(&headers, body) {
        groundskeeper_fuzz::check(raw);
    }
});

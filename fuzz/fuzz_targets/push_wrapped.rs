//! Pub/Sub push, wrapped: a JSON body with a `message` object and no telling headers (also
//! what a Cloud Scheduler job with a Pub/Sub target delivers). Input: the body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let headers = http::HeaderMap::new();
    if let Ok(raw) = events::delivery::decode(&headers, body) {
        groundskeeper_fuzz::check(raw);
    }
});

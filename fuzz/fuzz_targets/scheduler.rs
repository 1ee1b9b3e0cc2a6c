//! Cloud Scheduler HTTP-target requests (`X-CloudScheduler-*` headers, the job's body).
//! Input: headers, empty line, body; `X-CloudScheduler: true` is added when absent.
#![no_main]
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut headers, body) = groundskeeper_fuzz::request(data);
    if !headers.contains_key("x-cloudscheduler") {
        headers.insert("x-cloudscheduler", HeaderValue::from_static("true"));
    }
    if let Ok(raw) = events::delivery::decode(&headers, body) {
        groundskeeper_fuzz::check(raw);
    }
});

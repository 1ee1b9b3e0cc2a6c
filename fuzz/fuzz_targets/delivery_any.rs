//! The whole delivery decoder as the server calls it: any headers, any body, the form
//! recognised from the request alone. Input: headers, empty line, body.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (headers, body) = groundskeeper_fuzz::request(data);
    if let Ok(raw) = events::delivery::decode(&headers, body) {
        groundskeeper_fuzz::check(raw);
    }
});

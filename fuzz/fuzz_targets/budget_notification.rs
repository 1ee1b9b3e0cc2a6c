//! Cloud Billing budget notifications as budget-guard decodes them from a delivered message.
//! Input: attribute lines `name: value`, empty line, message data.
#![no_main]
use events::{delivery, types};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (attributes, data) = groundskeeper_fuzz::attributes(data);
    let mut raw = delivery::bare(types::BUDGET_NOTIFICATION, data);
    raw.attributes = attributes;
    groundskeeper_fuzz::budget(raw);
});

//! Secret Manager event notifications as secret-rotator decodes them from a delivered
//! message. Input: attribute lines `name: value`, empty line, message data.
#![no_main]
use events::{delivery, types};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (attributes, data) = groundskeeper_fuzz::attributes(data);
    let mut raw = delivery::bare(types::SECRET_MANAGER_NOTIFICATION, data);
    raw.attributes = attributes;
    groundskeeper_fuzz::secret_manager(raw);
});

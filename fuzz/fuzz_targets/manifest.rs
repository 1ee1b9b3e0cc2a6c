//! The bootstrap manifest (TOML, registry defaults filled in, validated, cron expressions
//! parsed). Input: the file's text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = infra_bootstrap::manifest::Manifest::parse(text);
    }
});

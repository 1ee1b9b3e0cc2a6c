//! Each of our payload types (`events::types::OURS`): strict JSON, `deny_unknown_fields`,
//! names and ranges validated. Input: one byte choosing the type (index into OURS, modulo
//! its length), then the payload.
#![no_main]
use libfuzzer_sys::fuzz_target;

use groundskeeper_fuzz::OURS;

fuzz_target!(
    init: {
        // A new type in events::types::OURS must get its decoder here, or it goes unfuzzed.
        let listed: Vec<&str> = OURS.iter().map(|(ty, _)| *ty).collect();
        assert_eq!(listed, events::types::OURS, "fuzz/src/lib.rs OURS is out of date");
    },
    |data: &[u8]| {
        let Some((&selector, payload)) = data.split_first() else {
            return;
        };
        let (ty, decode) = OURS[usize::from(selector) % OURS.len()];
        decode(events::delivery::bare(ty, payload.to_vec()));
    }
);

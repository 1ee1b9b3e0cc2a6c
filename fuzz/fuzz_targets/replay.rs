//! A `replay --file F` file, through `shared::replay::decode_file` (the code `replay` runs)
//! and then the payload decoder of the event's type. Input: option lines (`--type T`,
//! `--header NAME:VALUE`), empty line, the file; input starting with a newline has no options.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (options, file) = match data.strip_prefix(b"\n") {
        Some(file) => (&data[..0], file),
        None => match data.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &data[data.len()..]),
        },
    };
    let mut event_type = None;
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(options).lines() {
        if let Some(ty) = line.strip_prefix("--type ") {
            event_type = Some(ty.to_owned());
        } else if let Some(header) = line.strip_prefix("--header ") {
            headers.push(header.to_owned());
        }
    }
    if let Ok(Ok(raw)) = shared::replay::decode_file(file, event_type.as_deref(), &headers) {
        groundskeeper_fuzz::check(raw);
    }
});

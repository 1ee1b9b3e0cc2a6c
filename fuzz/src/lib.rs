//! Helpers the fuzz targets share: turning fuzz input into an HTTP request, and running a
//! decoded event through every payload decoder the services use.
//!
//! Input format of the request-shaped targets (what `seed.py` writes from the fixtures):
//! header lines `Name: value`, an empty line, then the body. Input starting with a newline
//! has no headers. Lines that are no valid header are skipped, so the fuzzer can mutate
//! freely without wasting most executions on unparseable framing.

use std::collections::BTreeMap;

use events::backup::*;
use events::budget::BudgetNotification;
use events::downscale::*;
use events::environment::*;
use events::rotation::*;
use events::secret_manager::SecretManagerNotification;
use events::{Payload, RawEvent, TypedEvent};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Splits `data` into header lines and body (see the crate docs).
pub fn split(data: &[u8]) -> (Vec<(&[u8], &[u8])>, &[u8]) {
    let (head, body) = if let Some(rest) = data.strip_prefix(b"\n") {
        (&data[..0], rest)
    } else {
        match data.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &data[data.len()..]),
        }
    };
    let lines = head
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            Some((trim(&line[..colon]), trim(&line[colon + 1..])))
        })
        .collect();
    (lines, body)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end.max(start)]
}

/// The input as an HTTP request: headers (invalid ones skipped, as hyper would refuse them
/// before the decoder sees them) and body.
pub fn request(data: &[u8]) -> (HeaderMap, &[u8]) {
    let (lines, body) = split(data);
    let mut headers = HeaderMap::new();
    for (name, value) in lines {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    (headers, body)
}

/// The input as Pub/Sub attributes (`name: value` lines, any UTF-8) and message data.
pub fn attributes(data: &[u8]) -> (BTreeMap<String, String>, Vec<u8>) {
    let (lines, body) = split(data);
    let attributes = lines
        .into_iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect();
    (attributes, body.to_vec())
}

/// A payload decoder: what the runtime runs after decoding the envelope.
pub type Decoder = fn(RawEvent);

/// Decodes one of our payloads; what decodes must survive the way back: serialised as we
/// publish it, it decodes (and validates) to the same value. A payload we accept but could
/// not re-emit would be dead-lettered by the next service that reads it.
fn run<T: TypedEvent + PartialEq + std::fmt::Debug>(raw: RawEvent) {
    let ty = raw.ty.clone();
    let Ok(event) = raw.typed::<T>() else {
        return;
    };
    let _ = Payload::idempotency_key(&event.data);
    let json = serde_json::to_vec(&event.data).expect("a decoded payload serialises");
    let again = events::delivery::bare(&ty, json.clone())
        .typed::<T>()
        .unwrap_or_else(|e| {
            panic!(
                "{ty}: re-serialised payload is refused: {e}\n{}",
                String::from_utf8_lossy(&json)
            )
        });
    assert_eq!(
        again.data, event.data,
        "{ty}: payload changed on the way back"
    );
}

macro_rules! ours {
    ($($t:ty),* $(,)?) => {
        /// Every one of our payload types with its decoder, in the order of
        /// `events::types::OURS` (the `payload` target checks that it is complete).
        pub const OURS: &[(&str, Decoder)] = &[$((<$t as TypedEvent>::TYPE, run::<$t>)),*];
    };
}

ours![
    EnvironmentRequested,
    TeardownRequested,
    EnvironmentReady,
    EnvironmentFailed,
    EnvironmentDeleted,
    TtlSweep,
    RotationDue,
    RotationRequested,
    SecretRotated,
    RotationFailed,
    RotationManualRequired,
    RotationOverdue,
    BackupWindow,
    BackupRequested,
    BackupCompleted,
    BackupFailed,
    VerifyRequested,
    BackupVerified,
    BackupSkipped,
    BackupOverdue,
    RestoreRequested,
    BackupRestored,
    ExportRequested,
    BackupExported,
    DownscaleApplied,
    DownscaleResumed,
    BudgetThreshold,
    ResumeRequested,
];

/// Decodes a budget notification as budget-guard does, and reads its spend ratio.
pub fn budget(raw: RawEvent) {
    if let Ok(event) = raw.typed::<BudgetNotification>() {
        let _ = event.data.spend_ratio();
    }
}

/// Decodes a Secret Manager notification as secret-rotator does, and reads its name.
pub fn secret_manager(raw: RawEvent) {
    if let Ok(event) = raw.typed::<SecretManagerNotification>() {
        let _ = event.data.secret_name();
    }
}

/// What the runtime and `replay` do with a decoded delivery: serialise it (the replay
/// report, the dead-letter message) and decode its payload with the decoder of its type.
pub fn check(raw: RawEvent) {
    let _ = serde_json::to_vec(&raw);
    if let Some((_, decode)) = OURS.iter().find(|(ty, _)| *ty == raw.ty) {
        decode(raw);
    } else if raw.ty == events::types::BUDGET_NOTIFICATION {
        budget(raw);
    } else if raw.ty == events::types::SECRET_MANAGER_NOTIFICATION {
        secret_manager(raw);
    }
}

//! Every one of our payload types: its fixture decodes, validates and serialises back to the
//! same JSON; and published through [`OutgoingEvent`] then pushed by Pub/Sub, it arrives as
//! the same event.

use std::fmt::Debug;
use std::path::Path;

use base64::Engine;
use events::backup::*;
use events::downscale::*;
use events::environment::*;
use events::rotation::*;
use events::{delivery, types, DeliveryForm, OutgoingEvent, RawEvent, TypedEvent};
use serde_json::{json, Value};

fn fixture(ty: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/payloads/{ty}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn roundtrip<T: TypedEvent + PartialEq + Debug>() {
    let bytes = fixture(T::TYPE);
    let original: Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
    let event = RawEvent::bare(T::TYPE, bytes)
        .typed::<T>()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        serde_json::to_value(&event.data).expect("serialises"),
        original,
        "{}",
        T::TYPE
    );

    let message = OutgoingEvent::new("//groundskeeper/test", "evt-1", &event.data).into_message();
    let push = json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(&message.data),
            "attributes": message.attributes,
            "messageId": "123",
            "publishTime": "2024-05-01T10:00:00.000Z",
        },
        "subscription": "projects/p/subscriptions/s",
    });
    let body = serde_json::to_vec(&push).expect("serialises");
    let raw = delivery::decode(&http::HeaderMap::new(), &body).expect("decodes");
    assert_eq!(
        (raw.ty.as_str(), raw.id.as_str(), raw.source.as_str()),
        (T::TYPE, "evt-1", "//groundskeeper/test")
    );
    assert_eq!(raw.form, DeliveryForm::PushWrapped);
    assert_eq!(
        raw.typed::<T>().expect("typed").data,
        event.data,
        "{}",
        T::TYPE
    );
}

#[test]
fn every_payload_fixture_round_trips() {
    roundtrip::<EnvironmentRequested>();
    roundtrip::<TeardownRequested>();
    roundtrip::<EnvironmentReady>();
    roundtrip::<EnvironmentFailed>();
    roundtrip::<EnvironmentDeleted>();
    roundtrip::<TtlSweep>();
    roundtrip::<RotationDue>();
    roundtrip::<RotationRequested>();
    roundtrip::<SecretRotated>();
    roundtrip::<RotationFailed>();
    roundtrip::<RotationManualRequired>();
    roundtrip::<RotationOverdue>();
    roundtrip::<BackupWindow>();
    roundtrip::<BackupRequested>();
    roundtrip::<BackupCompleted>();
    roundtrip::<BackupFailed>();
    roundtrip::<VerifyRequested>();
    roundtrip::<BackupVerified>();
    roundtrip::<BackupSkipped>();
    roundtrip::<BackupOverdue>();
    roundtrip::<RestoreRequested>();
    roundtrip::<BackupRestored>();
    roundtrip::<ExportRequested>();
    roundtrip::<BackupExported>();
    roundtrip::<DownscaleApplied>();
    roundtrip::<DownscaleResumed>();
}

#[test]
fn there_is_one_payload_fixture_per_type_and_no_other() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/payloads");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = types::OURS.iter().map(|ty| format!("{ty}.json")).collect();
    expected.sort();
    assert_eq!(files, expected);
}

#[test]
fn scheduler_payloads_key_on_their_window_when_stated() {
    let sweep: TtlSweep =
        serde_json::from_str(r#"{"window":"2024-05-01T10:00:00.000+00:00"}"#).expect("valid");
    assert_eq!(
        TypedEvent::idempotency_key(&sweep).as_deref(),
        Some("dev.groundskeeper.environment.ttl_sweep.v1@2024-05-01T10:00:00Z")
    );
    assert_eq!(TypedEvent::idempotency_key(&TtlSweep::default()), None);
    let due = RotationDue {
        window: sweep.window,
    };
    let backup = BackupWindow {
        window: sweep.window,
    };
    let keys = [
        TypedEvent::idempotency_key(&due),
        TypedEvent::idempotency_key(&backup),
    ];
    assert_eq!(
        keys,
        [
            Some("dev.groundskeeper.rotation.due.v1@2024-05-01T10:00:00Z".to_owned()),
            Some("dev.groundskeeper.backup.window.v1@2024-05-01T10:00:00Z".to_owned()),
        ]
    );
}

#[test]
fn bare_events_are_stable_per_type_and_payload() {
    let a = RawEvent::bare(types::BACKUP_WINDOW, b"{}".to_vec());
    let b = delivery::bare(types::BACKUP_WINDOW, b"{}".to_vec());
    let c = RawEvent::bare(types::ROTATION_DUE, b"{}".to_vec());
    assert_eq!(a, b);
    assert_ne!(a.id, c.id);
    assert!(a.id.starts_with("bare-") && a.id.len() == 21, "{}", a.id);
    assert_eq!(
        (a.source.as_str(), a.form),
        ("//groundskeeper/replay", DeliveryForm::Bare)
    );
}

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

/// Found by the `payload` fuzz target (10 M run, 2026-11-27): a resource setting holding an
/// integer too long for 64 bits is read as a float, and it came back one unit in the last
/// place off once re-serialised, so a `downscale.resumed` re-emitted as read did not say what
/// the first one said (and a setting restored from it would not be the one recorded).
/// serde_json's `float_roundtrip` parses such numbers exactly.
#[test]
fn a_long_number_in_a_resource_setting_survives_the_way_back() {
    let long = format!("-{}{}{}1", "9".repeat(6), "3".repeat(110), "9".repeat(90));
    let text = format!(
        r#"{{"billing_account": "01D4EE-079462-DFD6EC",
            "budget_id": "de72f49d-779b-4945-a127-4d6ce8def0bb",
            "cost_interval_start": "2024-05-01T07:00:00Z", "reason": "new-period",
            "targets": [{{"kind": "database", "name": "env_pr_99", "action": "resumed",
                "before": {{"connection_limit": 0}}, "after": {{"connection_limit": {long}}}}}]}}"#
    );
    let first = RawEvent::bare(DownscaleResumed::TYPE, text.into_bytes())
        .typed::<DownscaleResumed>()
        .expect("decodes");
    let again = serde_json::to_vec(&first.data).expect("serialises");
    let second = RawEvent::bare(DownscaleResumed::TYPE, again)
        .typed::<DownscaleResumed>()
        .expect("decodes again");
    assert_eq!(second.data, first.data);
}

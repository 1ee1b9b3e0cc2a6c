//! Payloads that must be refused, and the reasons people will read in the dead-letter topic.

use events::backup::BackupCompleted;
use events::downscale::{DownscaleApplied, ResumeRequested};
use events::environment::{EnvironmentReady, EnvironmentRequested};
use events::rotation::RotationRequested;
use events::{DecodeError, Payload, RawEvent, TypedEvent};
use serde_json::{json, Value};

fn reason<T: TypedEvent>(payload: Value) -> String {
    let raw = RawEvent::bare(T::TYPE, serde_json::to_vec(&payload).expect("JSON"));
    match raw.typed::<T>() {
        Err(DecodeError::InvalidPayload { ty, reason }) => {
            assert_eq!(ty, T::TYPE);
            // serde_json appends where in the JSON it stopped; the message is what matters.
            match reason.rsplit_once(" at line ") {
                Some((message, _)) => message.to_owned(),
                None => reason,
            }
        }
        Err(other) => panic!("expected InvalidPayload, got {other}"),
        Ok(_) => panic!("{payload} was accepted"),
    }
}

fn request(patch: Value) -> Value {
    let mut base = json!({"name": "pr-1", "owner": "ci@example.com", "tier": "ephemeral"});
    for (key, value) in patch.as_object().expect("object") {
        base[key] = value.clone();
    }
    base
}

#[test]
fn environment_requests_are_refused_with_reasons() {
    let cases = [
        (json!({"tier": "prod"}), "tier: `prod` cannot be requested; groundskeeper provisions only ephemeral, dev and staging environments"),
        (json!({"name": "Pr_1"}), "environment name \"Pr_1\" has uppercase 'P' at position 1: use lowercase letters"),
        (json!({"name": "a;drop database x"}), "environment name \"a;drop database x\" has ';' at position 2: only lowercase letters, digits and hyphens are allowed"),
        (json!({"name": ""}), "environment name is empty: use 1-30 lowercase letters, digits and hyphens, starting with a letter"),
        (json!({"ttl": "0s"}), "ttl: must be longer than zero"),
        (json!({"ttl": "2 days"}), "invalid duration \"2 days\": unknown unit ' '; use d, h, m or s (e.g. \"48h\", \"30m\", \"1h30m\")"),
        (json!({"owner": ""}), "owner: must be 1-128 printable characters"),
        (json!({"labels": {"managed-by": "me"}}), "labels.managed-by: this label is set by groundskeeper"),
        (json!({"labels": {"Team": "x"}}), "labels: key \"Team\" must start with a lowercase letter and use only a-z, 0-9, - and _"),
        (json!({"labels": {"team": "A B"}}), "labels.team: value \"A B\" must be at most 63 characters of a-z, 0-9, - and _"),
        (json!({"service": {"image": ""}}), "service.image: must be 1-1024 characters"),
        (json!({"service": {"image": "i", "env": {"PORT": "1"}}}), "service.env.PORT: set by Cloud Run, cannot be given"),
        (json!({"service": {"image": "i", "env": {"1X": "1"}}}), "service.env: \"1X\" is not a valid variable name"),
        (json!({"password": "hunter2"}), "unknown field `password`, expected one of `name`, `owner`, `tier`, `ttl`, `labels`, `service`, `from_backup`"),
        (json!({"tier": "production"}), "unknown variant `production`, expected one of `ephemeral`, `dev`, `staging`, `prod`"),
    ];
    for (patch, expected) in cases {
        let payload = request(patch.clone());
        assert_eq!(
            reason::<EnvironmentRequested>(payload),
            expected,
            "patch {patch}"
        );
    }
}

#[test]
fn a_valid_request_gets_its_defaults() {
    let raw = RawEvent::bare(
        EnvironmentRequested::TYPE,
        serde_json::to_vec(&request(json!({}))).expect("JSON"),
    );
    let request = raw.typed::<EnvironmentRequested>().expect("valid").data;
    assert_eq!(
        (request.ttl, request.labels.len(), request.service),
        (None, 0, None)
    );
}

#[test]
fn a_ready_event_cannot_carry_a_password() {
    let mut ready: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/payloads/dev.groundskeeper.environment.ready.v1.json"
        ))
        .expect("fixture"),
    )
    .expect("JSON");
    ready["password"] = json!("hunter2");
    assert!(reason::<EnvironmentReady>(ready).starts_with("unknown field `password`"));
}

#[test]
fn other_payloads_name_the_broken_field() {
    assert_eq!(
        reason::<RotationRequested>(json!({})),
        "give `secret` or `environment`: neither is set"
    );
    assert_eq!(
        reason::<RotationRequested>(json!({"secret": "s", "environment": "e"})),
        "give `secret` or `environment`, not both"
    );
    let completed = json!({"environment": "e", "database": "env_e", "backup_id": "1", "location": "gs://b/o",
        "size_bytes": 1, "sha256": "ABC", "started_at": "2024-05-01T02:00:00Z", "finished_at": "2024-05-01T02:00:01Z"});
    assert_eq!(
        reason::<BackupCompleted>(completed),
        "sha256: \"ABC\" is not 64 lowercase hex digits"
    );
    let applied = json!({"billing_account": "a", "budget_id": "b", "cost_interval_start": "2024-05-01T00:00:00Z",
        "spend_ratio": -1.0, "level": "cap", "targets": []});
    assert_eq!(
        reason::<DownscaleApplied>(applied.clone()),
        "spend_ratio: -1 is not a finite ratio ≥ 0"
    );
    let mut notify = applied;
    notify["spend_ratio"] = json!(0.6);
    notify["level"] = json!("notify");
    assert_eq!(
        reason::<DownscaleApplied>(notify),
        "level: \"notify\" is not cap or stop"
    );
    assert_eq!(
        reason::<ResumeRequested>(json!({"billing_account": "a", "budget_id": "../x"})),
        "budget_id: \"../x\" must be 1-128 letters, digits, - or _"
    );
    assert_eq!(
        reason::<EnvironmentRequested>(json!([])),
        "expected a JSON object",
        "an array must not pass for a struct by position"
    );
}

#[test]
fn the_wrong_type_is_refused_before_decoding() {
    let raw = RawEvent::bare("dev.groundskeeper.environment.ready.v1", b"{}".to_vec());
    let err = raw.typed::<EnvironmentRequested>().expect_err("wrong type");
    assert_eq!(
        err.to_string(),
        "event type `dev.groundskeeper.environment.ready.v1` is not handled here; accepted: dev.groundskeeper.environment.requested.v1"
    );
    assert_eq!(
        <EnvironmentRequested as Payload>::accepts(),
        ["dev.groundskeeper.environment.requested.v1"]
    );
}

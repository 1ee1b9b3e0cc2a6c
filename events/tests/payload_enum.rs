//! `payload_enum!`: one payload type over several event types.

use events::environment::{EnvironmentRequested, TeardownRequested, TtlSweep};
use events::{types, DecodeError, Payload, RawEvent};

events::payload_enum! {
    /// What a provisioner-like service handles.
    #[derive(Debug, PartialEq)]
    pub enum ProvisionerEvent {
        /// Provision.
        Requested(EnvironmentRequested),
        /// Remove one.
        Teardown(TeardownRequested),
        /// Remove the expired ones.
        Sweep(TtlSweep),
    }
}

events::payload_enum! {
    /// Nesting works: an enum is a payload like any other.
    #[derive(Debug)]
    enum Everything {
        Provisioner(ProvisionerEvent),
        Budget(events::budget::BudgetNotification),
    }
}

#[test]
fn it_dispatches_on_the_event_type() {
    let raw = RawEvent::bare(
        types::ENVIRONMENT_TEARDOWN_REQUESTED,
        br#"{"name":"pr-1"}"#.to_vec(),
    );
    match raw.typed::<ProvisionerEvent>().expect("accepted").data {
        ProvisionerEvent::Teardown(t) => assert_eq!(t.name.as_str(), "pr-1"),
        other => panic!("wrong variant {other:?}"),
    }
    let sweep = RawEvent::bare(
        types::ENVIRONMENT_TTL_SWEEP,
        br#"{"window":"2024-05-01T10:00:00Z"}"#.to_vec(),
    );
    let event = sweep.typed::<ProvisionerEvent>().expect("accepted");
    assert_eq!(
        Payload::idempotency_key(&event.data).as_deref(),
        Some("dev.groundskeeper.environment.ttl_sweep.v1@2024-05-01T10:00:00Z"),
        "the variant's key is the enum's key"
    );
}

#[test]
fn it_accepts_the_union_and_refuses_the_rest_by_name() {
    assert_eq!(
        ProvisionerEvent::accepts(),
        [
            types::ENVIRONMENT_REQUESTED,
            types::ENVIRONMENT_TEARDOWN_REQUESTED,
            types::ENVIRONMENT_TTL_SWEEP
        ]
    );
    let err = RawEvent::bare(types::BACKUP_WINDOW, b"{}".to_vec())
        .typed::<ProvisionerEvent>()
        .expect_err("refused");
    assert_eq!(
        err,
        DecodeError::UnknownType {
            ty: types::BACKUP_WINDOW.into(),
            accepted: "dev.groundskeeper.environment.requested.v1, dev.groundskeeper.environment.teardown.requested.v1, dev.groundskeeper.environment.ttl_sweep.v1".into(),
        }
    );
    assert_eq!(Everything::accepts().len(), 4);
    let direct = ProvisionerEvent::decode(&RawEvent::bare(types::BACKUP_WINDOW, b"{}".to_vec()));
    assert!(
        matches!(direct, Err(DecodeError::UnknownType { .. })),
        "decode itself refuses too"
    );
}

#[test]
fn a_variant_payload_error_passes_through() {
    let raw = RawEvent::bare(
        types::ENVIRONMENT_TEARDOWN_REQUESTED,
        br#"{"name":"Bad"}"#.to_vec(),
    );
    let Err(DecodeError::InvalidPayload { ty, reason }) = raw.typed::<Everything>() else {
        panic!("expected an invalid payload")
    };
    assert_eq!(ty, types::ENVIRONMENT_TEARDOWN_REQUESTED);
    assert!(
        reason.starts_with("environment name \"Bad\" has uppercase 'B'"),
        "{reason}"
    );
}

//! Publishing our events: which topic each type goes to, checking a payload against its type
//! before it leaves, and the CloudEvents attributes every message carries.

use anyhow::Context as _;
use events::backup::{
    BackupCompleted, BackupExported, BackupFailed, BackupOverdue, BackupRequested, BackupRestored,
    BackupSkipped, BackupVerified, BackupWindow, ExportRequested, RestoreRequested,
    VerifyRequested,
};
use events::downscale::{BudgetThreshold, DownscaleApplied, DownscaleResumed, ResumeRequested};
use events::environment::{
    EnvironmentDeleted, EnvironmentFailed, EnvironmentReady, EnvironmentRequested,
    TeardownRequested, TtlSweep,
};
use events::rotation::{
    RotationDue, RotationFailed, RotationManualRequired, RotationOverdue, RotationRequested,
    SecretRotated,
};
use events::{DecodeError, OutgoingEvent, RawEvent, TypedEvent};
use shared::backends::publisher::Publisher;

/// Requests for env-provisioner (the manifests' `environment-requests`).
pub const ENVIRONMENT_REQUESTS: &str = "environment-requests";
/// Requests for secret-rotator (`rotation-due`).
pub const ROTATION_DUE: &str = "rotation-due";
/// Requests for backup-runner (`backup-window`).
pub const BACKUP_WINDOW: &str = "backup-window";
/// People's requests for budget-guard (`budget-requests`; Cloud Billing alone publishes to
/// `budget-alerts`).
pub const BUDGET_REQUESTS: &str = "budget-requests";
/// Follow-up events (the manifests' `events_topic`).
pub const EVENTS: &str = "groundskeeper-events";

/// `ce-source` of everything the CLI publishes.
pub const SOURCE: &str = "//groundskeeper/cli";

type Check = fn(RawEvent) -> Result<(), DecodeError>;

fn check<T: TypedEvent>(raw: RawEvent) -> Result<(), DecodeError> {
    raw.typed::<T>().map(drop)
}

/// Each of our types: the topic it is published to, and its decoder.
pub const ROUTES: &[(&str, &str, Check)] = &[
    (
        EnvironmentRequested::TYPE,
        ENVIRONMENT_REQUESTS,
        check::<EnvironmentRequested>,
    ),
    (
        TeardownRequested::TYPE,
        ENVIRONMENT_REQUESTS,
        check::<TeardownRequested>,
    ),
    (TtlSweep::TYPE, ENVIRONMENT_REQUESTS, check::<TtlSweep>),
    (EnvironmentReady::TYPE, EVENTS, check::<EnvironmentReady>),
    (EnvironmentFailed::TYPE, EVENTS, check::<EnvironmentFailed>),
    (
        EnvironmentDeleted::TYPE,
        EVENTS,
        check::<EnvironmentDeleted>,
    ),
    (RotationDue::TYPE, ROTATION_DUE, check::<RotationDue>),
    (
        RotationRequested::TYPE,
        ROTATION_DUE,
        check::<RotationRequested>,
    ),
    (SecretRotated::TYPE, EVENTS, check::<SecretRotated>),
    (RotationFailed::TYPE, EVENTS, check::<RotationFailed>),
    (
        RotationManualRequired::TYPE,
        EVENTS,
        check::<RotationManualRequired>,
    ),
    (RotationOverdue::TYPE, EVENTS, check::<RotationOverdue>),
    (BackupWindow::TYPE, BACKUP_WINDOW, check::<BackupWindow>),
    (
        BackupRequested::TYPE,
        BACKUP_WINDOW,
        check::<BackupRequested>,
    ),
    (BackupCompleted::TYPE, EVENTS, check::<BackupCompleted>),
    (BackupFailed::TYPE, EVENTS, check::<BackupFailed>),
    (
        VerifyRequested::TYPE,
        BACKUP_WINDOW,
        check::<VerifyRequested>,
    ),
    (BackupVerified::TYPE, EVENTS, check::<BackupVerified>),
    (BackupSkipped::TYPE, EVENTS, check::<BackupSkipped>),
    (BackupOverdue::TYPE, EVENTS, check::<BackupOverdue>),
    (
        RestoreRequested::TYPE,
        BACKUP_WINDOW,
        check::<RestoreRequested>,
    ),
    (BackupRestored::TYPE, EVENTS, check::<BackupRestored>),
    (
        ExportRequested::TYPE,
        BACKUP_WINDOW,
        check::<ExportRequested>,
    ),
    (BackupExported::TYPE, EVENTS, check::<BackupExported>),
    (DownscaleApplied::TYPE, EVENTS, check::<DownscaleApplied>),
    (DownscaleResumed::TYPE, EVENTS, check::<DownscaleResumed>),
    (BudgetThreshold::TYPE, EVENTS, check::<BudgetThreshold>),
    (
        ResumeRequested::TYPE,
        BUDGET_REQUESTS,
        check::<ResumeRequested>,
    ),
];

/// The route for `ty`, given in full or short (`environment.requested` for
/// `dev.groundskeeper.environment.requested.v1`).
pub fn route(ty: &str) -> anyhow::Result<(&'static str, &'static str, Check)> {
    let full = format!("dev.groundskeeper.{ty}.v1");
    ROUTES
        .iter()
        .find(|(t, _, _)| *t == ty || *t == full)
        .copied()
        .with_context(|| {
            let known: Vec<&str> = ROUTES.iter().map(|(t, _, _)| *t).collect();
            format!("unknown event type {ty:?}; ours are: {}", known.join(", "))
        })
}

/// Publishes `data` as an event of type `ty` (already checked, or deliberately not) and
/// returns the message id. The event id is fresh, so every publish is a new request.
pub async fn send(
    publisher: &dyn Publisher,
    topic: &str,
    ty: &'static str,
    data: Vec<u8>,
) -> anyhow::Result<String> {
    send_as(publisher, topic, ty, data, new_event_id()).await
}

/// A fresh event id (`ce-id`): the request id the provisioner records its decision under.
pub fn new_event_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn send_as(
    publisher: &dyn Publisher,
    topic: &str,
    ty: &'static str,
    data: Vec<u8>,
    id: String,
) -> anyhow::Result<String> {
    let event = OutgoingEvent {
        ty,
        source: SOURCE.to_owned(),
        id,
        time: chrono::Utc::now(),
        data,
    };
    Ok(publisher.publish(topic, event.into_message()).await?)
}

/// Checks `payload` as its type would be checked on arrival, then publishes it.
pub async fn send_typed<T: TypedEvent>(
    publisher: &dyn Publisher,
    payload: &T,
) -> anyhow::Result<String> {
    send_typed_as(publisher, payload, new_event_id()).await
}

/// [`send_typed`] with the event id `id` (see [`new_event_id`]).
pub async fn send_typed_as<T: TypedEvent>(
    publisher: &dyn Publisher,
    payload: &T,
    id: String,
) -> anyhow::Result<String> {
    payload
        .validate()
        .map_err(|reason| anyhow::anyhow!("not published: {reason}"))?;
    let (ty, topic, _) = route(T::TYPE)?;
    send_as(publisher, topic, ty, serde_json::to_vec(payload)?, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_of_ours_has_a_route_to_a_topic_of_the_local_manifest() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/local.toml");
        let manifest =
            crate::manifest::Manifest::load(std::path::Path::new(path)).expect("local.toml");
        let mut topics: Vec<&str> = manifest
            .services
            .iter()
            .flat_map(|s| s.topics.iter().map(String::as_str))
            .collect();
        topics.push(&manifest.events_topic);
        for ty in events::types::OURS {
            let (_, topic, _) = route(ty).expect("routed");
            assert!(
                topics.contains(&topic),
                "{ty} goes to {topic}, which local.toml lacks"
            );
        }
        assert_eq!(ROUTES.len(), events::types::OURS.len());
    }

    #[test]
    fn short_names_resolve_and_payloads_are_checked_by_their_type() {
        let (ty, topic, check) = route("environment.teardown.requested").expect("short name");
        assert_eq!(
            (ty, topic),
            (
                events::types::ENVIRONMENT_TEARDOWN_REQUESTED,
                ENVIRONMENT_REQUESTS
            )
        );
        assert!(check(RawEvent::bare(ty, br#"{"name": "shop"}"#.to_vec())).is_ok());
        let err = check(RawEvent::bare(ty, br#"{"name": "Shop"}"#.to_vec())).expect_err("bad name");
        assert!(err.to_string().contains("uppercase"), "{err}");
        assert!(route("environment.exploded").is_err());
    }
}

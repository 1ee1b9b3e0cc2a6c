//! Secret Manager's own notifications, decoded from a real push request: `SECRET_ROTATE` for
//! `projects/NUMBER/secrets/NAME` rotates NAME; every other event type is acked and ignored.
//! (The Secret Manager backend's requests — add version, aliases with etag, disable, destroy —
//! are asserted against the official client's stub in shared/tests/secrets_secret_manager.rs.)
#![allow(clippy::unwrap_used)]

mod support;

use shared::Outcome;
use support::*;

/// This service's project: Secret Manager names it by number in `secretId`.
const OURS: &[(&str, &str)] = &[
    ("MIN_ROTATION_INTERVAL_MS", "0"),
    ("PROJECT_NUMBER", "123456789012"),
];

fn push(event_type: &str, secret_id: &str, message_id: &str) -> events::RawEvent {
    let body = serde_json::json!({
        "message": {
            "attributes": { "eventType": event_type, "dataFormat": "JSON", "secretId": secret_id },
            "messageId": message_id,
            "publishTime": "2024-06-01T00:00:00.123Z",
        },
        "subscription": "projects/acme-dev/subscriptions/secret-rotator-secret-events",
    });
    events::delivery::decode(&http::HeaderMap::new(), &serde_json::to_vec(&body).unwrap()).unwrap()
}

#[tokio::test]
async fn secret_rotate_rotates_the_named_secret_and_other_types_are_ignored() {
    let stack = Stack::start(OURS).await;
    let secret = stack.provision(&env_name("notified")).await;
    let resource = format!("projects/123456789012/secrets/{secret}");

    for (i, other) in [
        "SECRET_VERSION_ADD",
        "SECRET_UPDATE",
        "SECRET_VERSION_DESTROY",
    ]
    .iter()
    .enumerate()
    {
        let outcome = stack
            .deliver_with(
                stack.config.clone(),
                push(other, &resource, &format!("o{i}")),
            )
            .await
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Ignored(_)),
            "{other}: {outcome:?}"
        );
    }
    assert_eq!(stack.aliases(&secret).await.get("current"), Some(&1));

    let outcome = stack
        .deliver_with(stack.config.clone(), push("SECRET_ROTATE", &resource, "r1"))
        .await
        .unwrap();

    assert_eq!(outcome, Outcome::Done);
    assert_eq!(stack.aliases(&secret).await.get("current"), Some(&2));
    login(&stack.current(&secret).await).await.unwrap();
    assert_eq!(stack.emitted_of(ROTATED).len(), 1);
}

#[tokio::test]
async fn secret_rotate_for_manual_or_foreign_secrets_does_not_rotate() {
    let stack = Stack::start(OURS).await;
    let manual = format!("{}-api-key", env_name("manual"));
    stack
        .create_secret(
            &manual,
            &[("managed-by", "groundskeeper"), ("rotation", "manual")],
            "key",
        )
        .await;
    let foreign = format!("{}-other", env_name("foreign"));
    stack.create_secret(&foreign, &[("team", "x")], "key").await;

    let manual_outcome = stack
        .deliver_with(
            stack.config.clone(),
            push(
                "SECRET_ROTATE",
                &format!("projects/123456789012/secrets/{manual}"),
                "m1",
            ),
        )
        .await
        .unwrap();
    let foreign_outcome = stack
        .deliver_with(
            stack.config.clone(),
            push(
                "SECRET_ROTATE",
                &format!("projects/123456789012/secrets/{foreign}"),
                "f1",
            ),
        )
        .await
        .unwrap();
    let malformed = stack
        .deliver_with(
            stack.config.clone(),
            push("SECRET_ROTATE", "secrets/no-project", "x1"),
        )
        .await
        .unwrap_err();

    assert_eq!(manual_outcome, Outcome::Done);
    let reminders = stack.emitted_of(MANUAL);
    assert_eq!(reminders.len(), 1);
    assert_eq!(
        (
            reminders[0]["secret"].as_str(),
            reminders[0]["policy_days"].as_u64()
        ),
        (Some(manual.as_str()), Some(90))
    );
    assert!(
        matches!(foreign_outcome, Outcome::Ignored(ref why) if why.contains("not managed")),
        "{foreign_outcome:?}"
    );
    assert!(
        matches!(malformed, secret_rotator::RotateError::Rejected(_)),
        "{malformed}"
    );
    assert!(stack.emitted_of(ROTATED).is_empty());
}

#[tokio::test]
async fn secret_rotate_for_a_same_named_secret_in_another_project_does_not_rotate_ours() {
    let stack = Stack::start(OURS).await;
    let secret = stack.provision(&env_name("elsewhere")).await;

    let other_project = stack
        .deliver_with(
            stack.config.clone(),
            push(
                "SECRET_ROTATE",
                &format!("projects/999999999999/secrets/{secret}"),
                "p1",
            ),
        )
        .await
        .unwrap_err();
    // A service that was not told its project number cannot tell: it rotates nothing.
    let unconfigured = stack
        .deliver_with(
            stack.with_config(FAST),
            push(
                "SECRET_ROTATE",
                &format!("projects/123456789012/secrets/{secret}"),
                "p2",
            ),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(&other_project, secret_rotator::RotateError::Rejected(why)
            if why.contains("999999999999") && why.contains("not this service's")),
        "{other_project}"
    );
    assert!(
        matches!(&unconfigured, secret_rotator::RotateError::Rejected(why) if why.contains("PROJECT_NUMBER")),
        "{unconfigured}"
    );
    assert_eq!(stack.aliases(&secret).await.get("current"), Some(&1));
    assert!(stack.emitted_of(ROTATED).is_empty());
}

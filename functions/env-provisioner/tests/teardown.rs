//! Teardowns that fail halfway: a transient failure is resumed (by the sweep's redelivery or
//! a teardown request) to completion; a permanent one is dead-lettered with its reason and
//! leaves a visible failed teardown that a later request resumes. The prod and not-managed
//! guards, through real events.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::sync::Arc;

use google_cloud_gax::error::rpc::Code;
use shared::{Classify, Disposition, Outcome};
use support::cloud_run::FakeRun;
use support::{Stack, REQUESTED};

async fn stack() -> (Stack, Arc<FakeRun>) {
    let fake = Arc::new(FakeRun::default());
    let settings = [("MAX_ENVIRONMENTS_PER_OWNER", "100")];
    (Stack::with_previews(&settings, fake.previews()).await, fake)
}

/// `name` with a preview, ready, and past its TTL.
async fn expired_with_preview(stack: &Stack, name: &str) {
    let mut request = support::request(name);
    request["service"] = serde_json::json!({ "image": "europe-docker.pkg.dev/acme/apps/a:1" });
    let id = format!("{name}-r");
    assert_eq!(
        stack.deliver(&id, REQUESTED, request).await.unwrap(),
        Outcome::Done
    );
    stack.expire(name).await;
}

async fn status(stack: &Stack, name: &str) -> (String, Option<serde_json::Value>) {
    sqlx::query_as("SELECT status, failure FROM control.environments WHERE name = $1")
        .bind(name)
        .fetch_one(&stack.control)
        .await
        .unwrap()
}

fn gone(footprint: &std::collections::BTreeMap<String, String>) {
    for key in ["roles", "databases", "secrets", "objects"] {
        assert_eq!(footprint[key], "", "{key} left behind: {footprint:?}");
    }
    assert!(footprint["row"].starts_with("deleted:{}"), "{footprint:?}");
}

#[tokio::test]
async fn a_sweep_that_failed_halfway_is_completed_by_its_redelivery() {
    let (stack, fake) = stack().await;
    expired_with_preview(&stack, "half").await;
    fake.fail_next_delete(Code::Unavailable);
    let err = stack.sweep().await.unwrap_err();
    assert!(
        matches!(err.disposition(), Disposition::Retry { .. }),
        "{err}"
    );
    assert_eq!(status(&stack, "half").await.0, "deleting");
    // Pub/Sub redelivers the same sweep.
    assert_eq!(stack.sweep().await.unwrap(), Outcome::Done);
    gone(&stack.footprint("half").await);
    assert!(!fake.exists("env-half"));
    // The name is free again and the quota released.
    let (live,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM control.environments WHERE status IN ('provisioning', 'ready', 'deleting')",
    )
    .fetch_one(&stack.control)
    .await
    .unwrap();
    assert_eq!(live, 0);
}

/// Issue 14, section 1: a Google API that answers 429 and then 503 for a while. Every
/// delivery meanwhile is told to retry (never dead-lettered), the environment stays
/// `deleting`, and the first delivery after the API recovers finishes the teardown with a
/// single successful removal.
#[tokio::test]
async fn an_api_answering_429_then_503_for_a_while_is_waited_out_by_redeliveries() {
    let (stack, fake) = stack().await;
    expired_with_preview(&stack, "busy").await;
    let throttled = [Code::ResourceExhausted; 3]
        .into_iter()
        .chain([Code::Unavailable; 3]);
    for code in throttled.clone() {
        fake.fail_next_delete(code);
    }
    for (attempt, code) in throttled.enumerate() {
        let err = stack
            .teardown_env("t1", "busy")
            .await
            .expect_err("the API refuses");
        assert!(
            matches!(err.disposition(), Disposition::Retry { .. }),
            "delivery {attempt} ({code:?}) must be retried: {err}"
        );
        assert_eq!(status(&stack, "busy").await.0, "deleting");
    }
    assert_eq!(
        stack.teardown_env("t1", "busy").await.unwrap(),
        Outcome::Done
    );
    gone(&stack.footprint("busy").await);
    assert!(!fake.exists("env-busy"));
    assert_eq!(
        fake.deleted(),
        vec!["env-busy".to_owned(); 7],
        "one removal asked per delivery: six refused, one done"
    );
}

#[tokio::test]
async fn a_teardown_request_resumes_a_teardown_the_sweep_left_halfway() {
    let (stack, fake) = stack().await;
    expired_with_preview(&stack, "half").await;
    fake.fail_next_delete(Code::Unavailable);
    stack.sweep().await.unwrap_err();
    assert_eq!(
        stack.teardown_env("t1", "half").await.unwrap(),
        Outcome::Done
    );
    gone(&stack.footprint("half").await);
}

#[tokio::test]
async fn a_permanent_removal_failure_is_dead_lettered_and_a_later_teardown_finishes() {
    let (stack, fake) = stack().await;
    expired_with_preview(&stack, "stuck").await;
    fake.fail_next_delete(Code::PermissionDenied);
    let err = stack.teardown_env("t1", "stuck").await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::Reject, "{err}");
    assert!(err.to_string().contains("service"), "{err}");
    let (state, failure) = status(&stack, "stuck").await;
    assert_eq!(state, "deleting");
    let failure = failure.expect("the failed teardown is visible");
    assert_eq!(failure["step"], "teardown:service", "{failure}");
    assert!(
        failure["reason"].as_str().unwrap().contains("env-stuck"),
        "{failure}"
    );
    // Nothing past the failed step was removed; what is left is still recorded.
    assert_eq!(
        stack.footprint("stuck").await["databases"]
            .split(' ')
            .count(),
        1
    );

    // The sweep does not retry forever on it: it reports it and acks.
    fake.fail_next_delete(Code::PermissionDenied);
    assert_eq!(stack.sweep().await.unwrap(), Outcome::Done);
    assert_eq!(status(&stack, "stuck").await.0, "deleting");

    // Once the cause is fixed, a teardown request finishes it.
    assert_eq!(
        stack.teardown_env("t2", "stuck").await.unwrap(),
        Outcome::Done
    );
    gone(&stack.footprint("stuck").await);
    assert!(!fake.exists("env-stuck"));
}

#[tokio::test]
async fn teardown_refuses_what_groundskeeper_does_not_manage_through_real_events() {
    let (stack, _fake) = stack().await;
    // A request cannot even carry the ownership labels: they are reserved.
    let mut request = support::request("mine");
    request["labels"] = serde_json::json!({ "managed-by": "someone-else" });
    let err = stack.deliver("r1", REQUESTED, request).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::Reject);
    // Nor be tier prod.
    let mut request = support::request("prodlike");
    request["tier"] = "prod".into();
    let err = stack.deliver("r2", REQUESTED, request).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::Reject);
    for name in ["mine", "prodlike"] {
        assert!(stack.footprint(name).await.values().all(String::is_empty));
        assert!(matches!(
            stack
                .teardown_env(&format!("t-{name}"), name)
                .await
                .unwrap(),
            Outcome::Ignored(_)
        ));
    }
}

//! Torn-down environments stay torn down: a request's redelivery after its environment was
//! torn down, or a request that arrives after its own teardown (push is unordered), is
//! refused and recorded; a new request published after the teardown provisions.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use chrono::{DateTime, Duration, Utc};
use env_provisioner::{fault, ProvisionError};
use shared::{Classify, Disposition, Outcome};
use support::{request, Stack, REQUESTED, TEARDOWN};

fn at(minutes_ago: i64) -> Option<DateTime<Utc>> {
    Some(Utc::now() - Duration::minutes(minutes_ago))
}

async fn decision(stack: &Stack, id: &str) -> (String, Option<String>) {
    sqlx::query_as(
        "SELECT decision, reason FROM control.environment_requests WHERE request_id = $1",
    )
    .bind(id)
    .fetch_one(&stack.control)
    .await
    .unwrap()
}

fn refused(result: Result<Outcome, ProvisionError>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.disposition(), Disposition::Reject, "{err}");
    err.to_string()
}

fn nothing_but_the_row(footprint: &std::collections::BTreeMap<String, String>) {
    for key in ["roles", "databases", "secrets", "objects"] {
        assert_eq!(footprint[key], "", "{key} re-created: {footprint:?}");
    }
    assert!(footprint["row"].starts_with("deleted:{}"), "{footprint:?}");
}

#[tokio::test]
async fn a_request_torn_down_while_being_retried_does_not_come_back() {
    let stack = Stack::start(&[]).await;
    let teardown = serde_json::json!({ "name": "shop" });
    // The request fails halfway and will be redelivered; meanwhile CI tears it down.
    fault::arm(&"shop".parse().unwrap(), "database:after");
    stack
        .deliver_at("r1", REQUESTED, request("shop"), at(10))
        .await
        .unwrap_err();
    assert_eq!(
        stack
            .deliver_at("t1", TEARDOWN, teardown, at(5))
            .await
            .unwrap(),
        Outcome::Done
    );
    let reason = refused(
        stack
            .deliver_at("r1", REQUESTED, request("shop"), at(10))
            .await,
    );
    assert!(reason.contains("torn down"), "{reason}");
    nothing_but_the_row(&stack.footprint("shop").await);
    assert_eq!(decision(&stack, "r1").await.0, "refused");

    // A new request, published after the teardown, provisions.
    let new = stack
        .deliver_at("r2", REQUESTED, request("shop"), at(0))
        .await;
    assert_eq!(new.unwrap(), Outcome::Done);
    assert!(stack.footprint("shop").await["row"].starts_with("ready:"));
}

#[tokio::test]
async fn a_request_swept_while_being_retried_does_not_come_back_even_without_event_times() {
    let stack = Stack::start(&[]).await;
    fault::arm(&"cart".parse().unwrap(), "credentials:after");
    stack.request_env("r1", "cart").await.unwrap_err();
    stack.expire("cart").await;
    stack.sweep().await.unwrap();
    // The request id decides: r1 was torn down.
    let reason = refused(stack.request_env("r1", "cart").await);
    assert!(
        reason.contains("r1") && reason.contains("torn down"),
        "{reason}"
    );
    nothing_but_the_row(&stack.footprint("cart").await);
}

#[tokio::test]
async fn a_teardown_that_overtakes_its_request_leaves_a_tombstone() {
    let stack = Stack::start(&[]).await;
    let teardown = serde_json::json!({ "name": "early" });
    let ack = stack
        .deliver_at("t1", TEARDOWN, teardown.clone(), at(5))
        .await;
    assert!(matches!(ack.unwrap(), Outcome::Ignored(_)));
    let reason = refused(
        stack
            .deliver_at("r1", REQUESTED, request("early"), at(10))
            .await,
    );
    assert!(reason.contains("torn down"), "{reason}");
    assert!(decision(&stack, "r1")
        .await
        .1
        .unwrap()
        .contains("torn down"));
    nothing_but_the_row(&stack.footprint("early").await);
    let failed = stack
        .emitted()
        .into_iter()
        .filter(|(ty, data)| ty.ends_with("environment.failed.v1") && data["name"] == "early")
        .count();
    assert_eq!(failed, 1, "listeners learn of the refusal");

    // A new request, published after the teardown, provisions.
    let new = stack
        .deliver_at("r2", REQUESTED, request("early"), at(1))
        .await;
    assert_eq!(new.unwrap(), Outcome::Done);
    assert!(stack.footprint("early").await["row"].starts_with("ready:"));
}

#[tokio::test]
async fn a_teardown_from_the_future_cannot_block_a_name_forever() {
    let stack = Stack::start(&[]).await;
    let teardown = serde_json::json!({ "name": "late" });
    let future = Some(Utc::now() + Duration::days(365));
    stack
        .deliver_at("t1", TEARDOWN, teardown, future)
        .await
        .unwrap();
    let published_after_receipt = Some(Utc::now() + Duration::seconds(1));
    let r = stack
        .deliver_at("r1", REQUESTED, request("late"), published_after_receipt)
        .await;
    assert_eq!(r.unwrap(), Outcome::Done);
}

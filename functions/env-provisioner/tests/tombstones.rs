//! Tombstones live in a table of their own: a teardown of a name never requested writes no
//! environment row (the doctor's probe and `env list --all` see nothing), and a completed
//! teardown keeps refusing its request whatever becomes of the environment's row.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use chrono::{DateTime, Duration, Utc};
use env_provisioner::ProvisionError;
use events::names::EnvName;
use shared::{Classify, Disposition, Outcome};
use support::{request, Stack, REQUESTED, TEARDOWN};

fn at(minutes_ago: i64) -> Option<DateTime<Utc>> {
    Some(Utc::now() - Duration::minutes(minutes_ago))
}

fn refused(result: Result<Outcome, ProvisionError>) -> String {
    let err = result.unwrap_err();
    assert_eq!(err.disposition(), Disposition::Reject, "{err}");
    err.to_string()
}

async fn rows(stack: &Stack, name: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM control.environments WHERE name = $1")
        .bind(name)
        .fetch_one(&stack.control)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_teardown_of_a_name_never_requested_writes_no_environment_row() {
    let stack = Stack::start(&[]).await;
    let teardown = serde_json::json!({ "name": "ghost" });
    for _ in 0..2 {
        let ack = stack
            .deliver_at("t1", TEARDOWN, teardown.clone(), at(5))
            .await;
        assert!(matches!(ack.unwrap(), Outcome::Ignored(_)));
    }
    assert_eq!(rows(&stack, "ghost").await, 0, "a fake environment row");
    // The tombstone still refuses a request published before the teardown, and the refusal
    // writes no row either.
    let reason = refused(
        stack
            .deliver_at("r1", REQUESTED, request("ghost"), at(10))
            .await,
    );
    assert!(reason.contains("torn down"), "{reason}");
    assert_eq!(rows(&stack, "ghost").await, 0);
}

#[tokio::test]
async fn a_torn_down_request_stays_refused_when_the_environment_row_is_purged() {
    let stack = Stack::start(&[]).await;
    assert_eq!(
        stack.request_env("r1", "shop").await.unwrap(),
        Outcome::Done
    );
    assert_eq!(
        stack.teardown_env("t1", "shop").await.unwrap(),
        Outcome::Done
    );
    // An operator purges deleted rows: the tombstone does not live in them.
    sqlx::query("DELETE FROM control.environments WHERE status = 'deleted'")
        .execute(&stack.control)
        .await
        .unwrap();
    let reason = refused(stack.request_env("r1", "shop").await);
    assert!(
        reason.contains("r1") && reason.contains("torn down"),
        "{reason}"
    );
    assert_eq!(rows(&stack, "shop").await, 0);
    // A new request id provisions.
    assert_eq!(
        stack.request_env("r2", "shop").await.unwrap(),
        Outcome::Done
    );
}

#[tokio::test]
async fn a_torn_down_request_stays_refused_after_a_later_request_failed() {
    let stack = Stack::start(&[]).await;
    let first = stack
        .deliver_at("r1", REQUESTED, request("shop"), at(10))
        .await;
    assert_eq!(first.unwrap(), Outcome::Done);
    let teardown = serde_json::json!({ "name": "shop" });
    let down = stack.deliver_at("t1", TEARDOWN, teardown, at(5)).await;
    assert_eq!(down.unwrap(), Outcome::Done);
    // A later request fails for good (a foreign role holds the owner role's name): the row
    // is `failed`, and must not let the torn-down request back in.
    let role = "shop".parse::<EnvName>().unwrap().owner_role();
    let create = format!("CREATE ROLE \"{role}\"");
    sqlx::query(&create)
        .execute(stack.admin.pool())
        .await
        .unwrap();
    let later = stack
        .deliver_at("r2", REQUESTED, request("shop"), at(1))
        .await;
    assert!(
        matches!(later, Err(ProvisionError::Failed { .. })),
        "{later:?}"
    );
    assert!(stack.footprint("shop").await["row"].starts_with("failed:"));
    sqlx::query(&format!("DROP ROLE \"{role}\""))
        .execute(stack.admin.pool())
        .await
        .unwrap();
    let reason = refused(
        stack
            .deliver_at("r1", REQUESTED, request("shop"), at(10))
            .await,
    );
    assert!(reason.contains("torn down"), "{reason}");
    assert!(stack.footprint("shop").await["row"].starts_with("failed:"));
}

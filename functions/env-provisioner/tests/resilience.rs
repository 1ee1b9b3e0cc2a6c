//! Crash points, duplicates and bad requests.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::sync::Arc;

use env_provisioner::{ProvisionError, STEPS};
use shared::{Classify, Disposition, Outcome};
use support::{Stack, REQUESTED};

/// The end state of a clean run, with what differs between runs (passwords, times) left out
/// of the footprint already. The secret's version count is in it: a resumed credentials step
/// must not add a second version.
async fn clean_footprint(stack: &Stack, name: &str) -> std::collections::BTreeMap<String, String> {
    stack
        .request_env(&format!("{name}-clean"), name)
        .await
        .unwrap();
    stack.footprint(name).await
}

#[tokio::test]
async fn a_crash_at_any_step_boundary_is_completed_by_the_redelivery() {
    let stack = Stack::start(&[("MAX_ENVIRONMENTS_PER_OWNER", "100")]).await;
    let expected = clean_footprint(&stack, "clean").await;
    let mut points: Vec<String> = STEPS
        .iter()
        .flat_map(|s| [format!("{s}:before"), format!("{s}:after")])
        .collect();
    points.extend(["ready:before".to_owned(), "ready:after".to_owned()]);
    for (i, point) in points.iter().enumerate() {
        let name = format!("crash{i}");
        stack.crash_then_complete(&name, point).await;
        let got = stack.footprint(&name).await;
        for (key, want) in &expected {
            let want = want.replace("clean", &name);
            assert_eq!(
                got[key], want,
                "after a crash at {point}, {key} differs from a clean run"
            );
        }
        let ready = stack
            .emitted()
            .into_iter()
            .filter(|(ty, data)| ty.ends_with("ready.v1") && data["name"] == name.as_str())
            .count();
        let expected_ready = if point == "ready:after" { 2 } else { 1 };
        assert_eq!(ready, expected_ready, "{point}: ready published at least once, and only re-published after a crash that lost it");
    }
}

#[tokio::test]
async fn fifty_duplicate_deliveries_at_once_make_one_environment_and_one_ready() {
    let stack = Arc::new(Stack::start(&[]).await);
    let attempts = (0..50).map(|i| {
        let stack = stack.clone();
        tokio::spawn(async move {
            // Each duplicate is redelivered until it is acked, as Pub/Sub would.
            loop {
                match stack.request_env(&format!("dup-{i}"), "dup").await {
                    Ok(outcome) => return outcome,
                    Err(e) if matches!(e.disposition(), Disposition::Retry { .. }) => {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await
                    }
                    Err(e) => panic!("duplicate rejected: {e}"),
                }
            }
        })
    });
    for outcome in futures::future::join_all(attempts).await {
        assert_eq!(outcome.unwrap(), Outcome::Done);
    }
    let ready = stack
        .emitted()
        .into_iter()
        .filter(|(ty, _)| ty.ends_with("ready.v1"))
        .count();
    assert_eq!(ready, 1);
    let footprint = stack.footprint("dup").await;
    assert_eq!(footprint["databases"].split(' ').count(), 1);
    assert!(
        footprint["secrets"].ends_with(":1 aliases:1 versions"),
        "one version, one current alias: {footprint:?}"
    );
}

#[tokio::test]
async fn bad_requests_are_rejected_with_reasons_and_create_nothing() {
    let stack = Stack::start(&[
        ("MAX_TTL", "100h"),
        ("MAX_ENVIRONMENTS", "2"),
        ("MAX_ENVIRONMENTS_PER_OWNER", "1"),
    ])
    .await;
    let reject = |r: Result<Outcome, ProvisionError>| {
        let err = r.unwrap_err();
        assert_eq!(err.disposition(), Disposition::Reject, "{err}");
        err.to_string()
    };
    let long_ttl =
        serde_json::json!({ "name": "long", "owner": "a@x", "tier": "dev", "ttl": "200h" });
    assert!(reject(stack.deliver("b1", REQUESTED, long_ttl).await).contains("maximum of 100h"));
    let backup = serde_json::json!({ "name": "restore", "owner": "a@x", "tier": "dev", "from_backup": "b-1@yesterday" });
    assert!(reject(stack.deliver("b2", REQUESTED, backup).await).contains("from_backup"));

    stack.request_env("q1", "first").await.unwrap();
    let same_owner = reject(stack.request_env("q2", "second").await);
    assert!(
        same_owner.contains("has 1 live environments, the maximum per owner is 1"),
        "{same_owner}"
    );
    let other = serde_json::json!({ "name": "second", "owner": "b@x", "tier": "dev" });
    stack.deliver("q3", REQUESTED, other).await.unwrap();
    let third = serde_json::json!({ "name": "third", "owner": "c@x", "tier": "dev" });
    assert!(reject(stack.deliver("q4", REQUESTED, third).await)
        .contains("2 live environments, the maximum is 2"));
    let changed = serde_json::json!({ "name": "first", "owner": "ci@example.com", "tier": "dev" });
    assert!(reject(stack.deliver("q5", REQUESTED, changed).await)
        .contains("exists with a different spec"));

    // A payload its type refuses (tier prod) but that names a valid environment reaches the
    // handler, which refuses it with the type's reason.
    let prod = serde_json::json!({ "name": "fine", "owner": "a", "tier": "prod" });
    assert!(reject(stack.deliver("p1", REQUESTED, prod).await)
        .contains("tier: `prod` cannot be requested"));

    for name in ["long", "restore", "third", "fine"] {
        let footprint = stack.footprint(name).await;
        assert!(
            footprint.values().all(String::is_empty),
            "{name}: {footprint:?}"
        );
    }
    // Every decision is recorded under its request id, refusals with the reason, so
    // `groundskeeper env wait` can report them; listeners get environment.failed at `request`.
    let decisions: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT request_id, name, decision, reason FROM control.environment_requests ORDER BY decided_at",
    )
    .fetch_all(&stack.control)
    .await
    .unwrap();
    let summary: Vec<(&str, &str, &str)> = decisions
        .iter()
        .map(|(id, name, decision, _)| (id.as_str(), name.as_str(), decision.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("b1", "long", "refused"),
            ("b2", "restore", "refused"),
            ("q1", "first", "accepted"),
            ("q2", "second", "refused"),
            ("q3", "second", "accepted"),
            ("q4", "third", "refused"),
            ("q5", "first", "refused"),
            ("p1", "fine", "refused"),
        ]
    );
    assert!(decisions[6]
        .3
        .as_deref()
        .unwrap()
        .contains("exists with a different spec"));
    let refused: Vec<_> = stack
        .emitted()
        .into_iter()
        .filter(|(ty, data)| ty.ends_with("environment.failed.v1") && data["step"] == "request")
        .map(|(_, data)| data["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        refused,
        ["long", "restore", "second", "third", "first", "fine"]
    );

    // Invalid names never reach the handler: the payload itself is refused.
    for bad in [
        serde_json::json!({ "name": "Pr_1", "owner": "a", "tier": "dev" }),
        serde_json::json!({ "name": "a;drop database x", "owner": "a", "tier": "dev" }),
        serde_json::json!({ "name": "a".repeat(70), "owner": "a", "tier": "dev" }),
        serde_json::json!({ "name": "", "owner": "a", "tier": "prod" }),
    ] {
        let raw = events::delivery::bare(REQUESTED, serde_json::to_vec(&bad).unwrap());
        let err = raw
            .typed::<env_provisioner::ProvisionerEvent>()
            .unwrap_err();
        assert!(
            matches!(err, events::DecodeError::InvalidPayload { .. }),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn the_sweep_removes_expired_environments_only() {
    let stack = Stack::start(&[]).await;
    stack.request_env("s1", "old").await.unwrap();
    stack
        .deliver(
            "s2",
            REQUESTED,
            serde_json::json!({ "name": "keep", "owner": "k@x", "tier": "dev" }),
        )
        .await
        .unwrap();
    stack.expire("old").await;
    assert_eq!(stack.sweep().await.unwrap(), Outcome::Done);
    assert!(stack.footprint("old").await["row"].starts_with("deleted:"));
    assert!(stack.footprint("keep").await["row"].starts_with("ready:"));
    let deleted: Vec<_> = stack
        .emitted()
        .into_iter()
        .filter(|(ty, _)| ty.ends_with("deleted.v1"))
        .collect();
    assert_eq!(
        deleted[0].1,
        serde_json::json!({ "name": "old", "reason": "ttl-expired" })
    );
    // Teardown refuses what groundskeeper does not manage.
    sqlx::query(
        "UPDATE control.environments SET labels = labels - 'managed-by' WHERE name = 'keep'",
    )
    .execute(&stack.control)
    .await
    .unwrap();
    let err = stack.teardown_env("t", "keep").await.unwrap_err();
    assert!(
        err.to_string().contains("managed-by=groundskeeper"),
        "{err}"
    );
    assert_eq!(
        stack.footprint("keep").await["databases"]
            .split(' ')
            .count(),
        1
    );
}

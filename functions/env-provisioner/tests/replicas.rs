//! Issue 14, section 2, for env-provisioner: three replicas, as Cloud Run scales the service
//! out, and every request and teardown pushed 100 times at once across them — exactly one
//! database, owner role, secret and `environment.ready` per environment, and exactly one
//! `environment.deleted` per teardown.
//!
//! A replica is the runtime's dispatch path (ledger, dead-letter topic, timeout) with a
//! handler of its own, all on one control database and one cluster, which is what Cloud Run
//! instances share. Of the 100 copies of an event, 90 are Pub/Sub pushing the same message
//! again (one message id) and 10 are the requester publishing it again (new ids), which the
//! ledger cannot recognise: there only the handler's own idempotency stands.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use env_provisioner::ProvisionerEvent;
use futures::future::join_all;
use shared::dispatch::Dispatcher;
use shared::Decision;
use support::{request, Stack, REQUESTED, TEARDOWN};

const REPLICAS: usize = 3;
const COPIES: usize = 100;
const ENVIRONMENTS: usize = 10;
const READY: &str = "dev.groundskeeper.environment.ready.v1";
const DELETED: &str = "dev.groundskeeper.environment.deleted.v1";

/// One replica: the dispatch path as `shared::run` builds it, with a handler of its own.
fn replica(stack: &Stack) -> Dispatcher<ProvisionerEvent, impl shared::Handler<ProvisionerEvent>> {
    stack.dispatcher(Duration::from_secs(60))
}

/// Pushes event `id` (`ty`, `data`, published at `at`) 100 times at once across `replicas`
/// until every copy is acked; a rejection fails the test.
async fn flood<H: shared::Handler<ProvisionerEvent>>(
    replicas: &[Dispatcher<ProvisionerEvent, H>],
    id: String,
    ty: &str,
    data: serde_json::Value,
    at: DateTime<Utc>,
) {
    let decisions = testbed::push_copies(
        COPIES,
        replicas.len(),
        |replica, copy| {
            // Every tenth copy is published again by its sender: a new message id.
            let id = if copy % 10 == 9 {
                format!("{id}-again-{copy}")
            } else {
                id.clone()
            };
            let raw = testbed::raw_event(&id, ty, &data, Some(at));
            replicas[replica].dispatch_raw(raw)
        },
        |d| matches!(d, Decision::Retry { .. }),
    )
    .await;
    for d in &decisions {
        assert!(!matches!(d, Decision::Rejected { .. }), "{id}: {d:?}");
    }
}

/// The standard request for `name`, by an owner of its own: the per-owner quota (5 live
/// environments) is not what this test is about.
fn of_own_owner(name: &str) -> serde_json::Value {
    let mut data = request(name);
    data["owner"] = format!("{name}@example.com").into();
    data
}

/// Count of rows `sql` finds for the LIKE `pattern`.
async fn count(stack: &Stack, sql: &str, pattern: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(pattern)
        .fetch_one(stack.admin.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_environments_each_pushed_100_times_across_three_replicas_are_made_and_removed_once() {
    let stack = Stack::start(&[]).await;
    let replicas: Vec<_> = (0..REPLICAS).map(|_| replica(&stack)).collect();
    let run = testbed::unique_name("r")
        .to_lowercase()
        .replace(['_', '-'], "");
    let names: Vec<String> = (0..ENVIRONMENTS)
        .map(|i| format!("rep-{}-{i}", &run[run.len() - 8..]))
        .collect();
    let requested_at = Utc::now();

    // All ten requests at once, each 100 times: 1 000 concurrent deliveries.
    join_all(names.iter().map(|name| {
        flood(
            &replicas,
            format!("req-{name}"),
            REQUESTED,
            of_own_owner(name),
            requested_at,
        )
    }))
    .await;

    let pattern = format!("env\\_rep\\_{}\\_%", &run[run.len() - 8..]);
    let databases = "SELECT count(*) FROM pg_database WHERE datname LIKE $1";
    let owners = "SELECT count(*) FROM pg_roles WHERE rolname LIKE $1 AND NOT rolcanlogin";
    let logins = "SELECT count(*) FROM pg_roles WHERE rolname LIKE $1 AND rolcanlogin";
    let n = ENVIRONMENTS as i64;
    assert_eq!(count(&stack, databases, &pattern).await, n, "databases");
    assert_eq!(count(&stack, owners, &pattern).await, n, "owner roles");
    assert_eq!(count(&stack, logins, &pattern).await, 2 * n, "login roles");
    let secrets: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM control.secrets WHERE name LIKE $1 AND name LIKE '%-db-credentials'",
    )
    .bind(format!("%rep-{}-%", &run[run.len() - 8..]))
    .fetch_one(&stack.control)
    .await
    .unwrap();
    assert_eq!(secrets, n, "secrets");
    let versions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM control.secret_versions WHERE secret LIKE $1")
            .bind(format!("%rep-{}-%", &run[run.len() - 8..]))
            .fetch_one(&stack.control)
            .await
            .unwrap();
    assert_eq!(versions, n, "one credentials version each");
    let ready: Vec<String> = stack
        .emitted()
        .into_iter()
        .filter(|(ty, _)| ty == READY)
        .map(|(_, payload)| payload["name"].as_str().unwrap().to_owned())
        .collect();
    let mut unique = ready.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ready.len(), unique.len()), (ENVIRONMENTS, ENVIRONMENTS));

    // Then every teardown at once, each 100 times, published after the requests.
    let torn_down_at = Utc::now() + chrono::TimeDelta::seconds(1);
    join_all(names.iter().map(|name| {
        flood(
            &replicas,
            format!("down-{name}"),
            TEARDOWN,
            serde_json::json!({ "name": name }),
            torn_down_at,
        )
    }))
    .await;
    assert_eq!(count(&stack, databases, &pattern).await, 0, "databases");
    assert_eq!(count(&stack, owners, &pattern).await, 0, "owner roles");
    assert_eq!(count(&stack, logins, &pattern).await, 0, "login roles");
    let deleted = stack
        .emitted()
        .into_iter()
        .filter(|(ty, _)| ty == DELETED)
        .count();
    assert_eq!(deleted, ENVIRONMENTS, "one environment.deleted each");
    assert_eq!(
        stack.emitted().iter().filter(|(ty, _)| ty == READY).count(),
        ENVIRONMENTS,
        "no request provisioned again after its teardown"
    );
    assert!(stack
        .published
        .messages_to("env-provisioner-dead-letter")
        .is_empty());
}

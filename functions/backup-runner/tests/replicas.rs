//! Issue 14, section 2, for backup-runner: three replicas, as Cloud Run scales the service
//! out, a backup window pushed 100 times at once across them, then every backup request its
//! fan-out published pushed 100 times at once — exactly one dump object and one manifest per
//! (database, window), and one `backup.completed` each.
//!
//! A replica is the runtime's dispatch path (ledger, dead-letter topic) with a handler of its
//! own ([`Stack::dispatcher`] builds a new one each call), all on one control database, one
//! managed server and one object store, which is what Cloud Run instances share. Of the 100
//! copies of a request, 90 are Pub/Sub pushing the same message again and 10 are the same
//! request published again under new ids (an operator re-running the window's fan-out by
//! hand), which only the request's natural key (environment, database, window) recognises.
#![allow(clippy::unwrap_used)]

mod stack;

use chrono::{DurationRound, TimeDelta, Utc};
use futures::future::join_all;
use serde_json::json;
use shared::Decision;
use stack::{raw_of, Stack, TOPIC, WINDOW};

const REPLICAS: usize = 3;
const COPIES: usize = 100;
const DATABASES: usize = 10;
const COMPLETED: &str = "dev.groundskeeper.backup.completed.v1";

/// Pushes `raw` 100 times at once across `replicas` until every copy is acked; every tenth
/// copy under a new id. A rejection fails the test.
async fn flood<H: shared::Handler<backup_runner::BackupEvent>>(
    replicas: &[shared::dispatch::Dispatcher<backup_runner::BackupEvent, H>],
    raw: &events::RawEvent,
) {
    let decisions = testbed::push_copies(
        COPIES,
        replicas.len(),
        |replica, copy| {
            let mut raw = raw.clone();
            if copy % 10 == 9 {
                raw.id = format!("{}-again-{copy}", raw.id);
            }
            replicas[replica].dispatch_raw(raw)
        },
        |d| matches!(d, Decision::Retry { .. }),
    )
    .await;
    for d in &decisions {
        assert!(!matches!(d, Decision::Rejected { .. }), "{}: {d:?}", raw.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_window_and_its_ten_backups_each_pushed_100_times_across_three_replicas_run_once_each() {
    let stack = Stack::start(&[]).await;
    let mut names = Vec::new();
    for i in 0..DATABASES {
        let name = format!("rep-{i}");
        stack.ready_environment(&name, "dev", 50).await;
        names.push(name);
    }
    let replicas: Vec<_> = (0..REPLICAS).map(|_| stack.dispatcher()).collect();
    // This minute's window: inside its start window.
    let window = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();

    let window_event = testbed::raw_event(
        "window-1",
        WINDOW,
        &json!({ "window": window.to_rfc3339() }),
        None,
    );
    flood(&replicas, &window_event).await;
    let requests = stack.published.messages_to(TOPIC);
    assert_eq!(requests.len(), DATABASES, "the window fans out once");

    // Every request of the fan-out at once, each 100 times: 1 000 concurrent deliveries.
    join_all(requests.iter().map(|m| {
        let raw = raw_of(m);
        let replicas = &replicas;
        async move { flood(replicas, &raw).await }
    }))
    .await;

    let dumps = stack.keys_ending(".dump");
    let manifests = stack.keys_ending(".manifest.json");
    assert_eq!(dumps.len(), DATABASES, "{dumps:?}");
    assert_eq!(manifests.len(), DATABASES, "{manifests:?}");
    for name in &names {
        let of = |keys: &[String]| {
            keys.iter()
                .filter(|k| k.contains(&format!("/{name}/")))
                .count()
        };
        assert_eq!((of(&dumps), of(&manifests)), (1, 1), "{name}");
    }
    let completed = stack.emitted_of(COMPLETED);
    assert_eq!(completed.len(), DATABASES, "one backup.completed each");
    let mut subjects: Vec<String> = completed
        .iter()
        .map(|c| c["environment"].as_str().unwrap_or_default().to_owned())
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), DATABASES, "{completed:?}");
    assert!(stack.published.messages_to(stack::DEAD_LETTERS).is_empty());
}

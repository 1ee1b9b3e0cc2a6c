//! Issue 14, section 2, for secret-rotator: three replicas, as Cloud Run scales a service out,
//! each rotation request pushed 100 times at once across them — and a client reading
//! `current` and logging in throughout never fails, while exactly one rotation happens per
//! request.
//!
//! A replica is the runtime's dispatch path with a handler of its own (its own in-memory
//! state, as each Cloud Run instance has), all on one control database, which is what Cloud
//! Run instances share; Pub/Sub may push any copy of a message to any of them, so the 100
//! copies go round-robin to the three, concurrently, and a copy told to retry is pushed again.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use secret_rotator::Credential;
use shared::backends::secrets::{LocalSecretStore, SecretStore};
use shared::Decision;
use support::*;

const REPLICAS: usize = 3;
const COPIES: usize = 100;
const ROTATIONS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_rotations_each_pushed_100_times_across_three_replicas_happen_once_each_without_a_failed_login(
) {
    let stack = Stack::start(&[("MIN_ROTATION_INTERVAL_MS", "400")]).await;
    let secret = stack.provision(&env_name("replicas")).await;
    let replicas: Vec<_> = (0..REPLICAS)
        .map(|_| stack.dispatcher(stack.config.clone()))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (store, secret, stop) = (
            LocalSecretStore::new(stack.control.clone()),
            secret.to_string(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let (mut logins, mut failures) = (0usize, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let cred =
                    Credential::parse(&store.access(&secret, "current").await.unwrap()).unwrap();
                match login(&cred).await {
                    Ok(()) => logins += 1,
                    Err(e) => failures.push(format!("{} {e}", cred.user)),
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            (logins, failures)
        })
    };

    for round in 0..ROTATIONS {
        // A request sooner than MIN_ROTATION_INTERVAL_MS after the last rotation is refused
        // (dead-lettered "ask again after …"): the requester paces its requests.
        tokio::time::sleep(Duration::from_millis(450)).await;
        let event = raw(
            &format!("replica-rotation-{round}"),
            REQUESTED,
            serde_json::json!({ "secret": secret }),
        );
        // Every copy is pushed until it is acked (a retry is Pub/Sub pushing it again).
        let mut pending: Vec<usize> = (0..COPIES).collect();
        while !pending.is_empty() {
            let decisions = join_all(
                pending
                    .iter()
                    .map(|copy| replicas[copy % REPLICAS].dispatch_raw(event.clone())),
            )
            .await;
            for decision in &decisions {
                assert!(
                    !matches!(decision, Decision::Rejected { .. }),
                    "round {round}: {decision:?}"
                );
            }
            pending = pending
                .into_iter()
                .zip(decisions)
                .filter(|(_, d)| matches!(d, Decision::Retry { .. }))
                .map(|(copy, _)| copy)
                .collect();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (logins, failures) = client.await.unwrap();
    assert!(
        failures.is_empty(),
        "{} failed logins, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(logins > 100, "the client kept logging in ({logins})");
    // Side effects = unique events: one new version and one event per request.
    let info = stack.info(&secret).await;
    assert_eq!(info.alias("current"), Some(ROTATIONS as u64 + 1));
    assert_eq!(stack.emitted_of(ROTATED).len(), ROTATIONS);
}

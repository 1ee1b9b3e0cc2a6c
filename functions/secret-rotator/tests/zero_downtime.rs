//! Zero downtime, measured: a client that reads `current` and opens a new connection every
//! few milliseconds sees no authentication failure across 50 consecutive rotations.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};
use std::time::Duration;

use secret_rotator::Credential;
use shared::backends::secrets::{LocalSecretStore, SecretStore};
use support::*;

/// Reads `current` and logs in, again and again, until told to stop; returns
/// (logins, failures with their SQLSTATE or message).
async fn client(
    store: LocalSecretStore,
    secret: String,
    stop: Arc<AtomicBool>,
) -> (usize, Vec<String>) {
    let (mut logins, mut failures) = (0, Vec::new());
    while !stop.load(Ordering::Relaxed) {
        let cred = Credential::parse(&store.access(&secret, "current").await.unwrap()).unwrap();
        match login(&cred).await {
            Ok(()) => logins += 1,
            Err(e) => failures.push(format!("{} {e}", cred.user)),
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    (logins, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_rotations_under_a_connecting_client_cause_no_authentication_failure() {
    // The credential a rotation demotes must outlive a client's read-then-connect.
    let stack = Stack::start(&[("MIN_ROTATION_INTERVAL_MS", "400")]).await;
    let secret = stack.provision(&env_name("zero")).await;
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(client(
                LocalSecretStore::new(stack.control.clone()),
                secret.to_string(),
                stop.clone(),
            ))
        })
        .collect();

    for round in 0..50 {
        stack.rotate(&secret, &format!("zd-{round}")).await;
    }
    stop.store(true, Ordering::Relaxed);

    let mut total = 0;
    for handle in clients {
        let (logins, failures) = handle.await.unwrap();
        assert!(
            failures.is_empty(),
            "{} failures, e.g. {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
        total += logins;
    }
    let info = stack.info(&secret).await;
    assert_eq!(info.alias("current"), Some(51), "50 rotations happened");
    assert!(
        total > 200,
        "the clients kept connecting throughout ({total} logins)"
    );
    assert_eq!(stack.emitted_of(ROTATED).len(), 50);
}

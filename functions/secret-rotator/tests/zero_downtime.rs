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
use sqlx::Connection as _;
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

/// A connection pool built once from a credential read earlier, reconnecting with it: every
/// query opens a new connection (lifetime 1 ms), as a pool does when its connections age out.
fn holding_pool(cred: &Credential) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(Duration::from_millis(1))
        .connect_lazy_with(cred.options(false).unwrap())
}

async fn query(pool: &sqlx::PgPool) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(2)).await; // let the connection age out
    sqlx::query("SELECT 1")
        .execute(pool)
        .await
        .map(drop)
        .map_err(|e| match e {
            sqlx::Error::Database(db) => db.code().unwrap_or_default().into_owned(),
            other => other.to_string(),
        })
}

/// Reads `current`, then reconnects with that credential for `hold` before reading again.
async fn holding_client(
    store: LocalSecretStore,
    secret: String,
    hold: Duration,
    stop: Arc<AtomicBool>,
) -> (usize, Vec<String>) {
    let (mut queries, mut failures) = (0, Vec::new());
    while !stop.load(Ordering::Relaxed) {
        let cred = Credential::parse(&store.access(&secret, "current").await.unwrap()).unwrap();
        let pool = holding_pool(&cred);
        let read_at = tokio::time::Instant::now();
        while read_at.elapsed() < hold && !stop.load(Ordering::Relaxed) {
            match query(&pool).await {
                Ok(()) => queries += 1,
                Err(e) => failures.push(format!("{} {e}", cred.user)),
            }
        }
        pool.close().await;
    }
    (queries, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alternating_a_pool_holding_its_credential_for_less_than_the_minimum_interval_never_fails()
{
    // The promise: a credential read from `current` keeps working for at least
    // MIN_ROTATION_INTERVAL_MS, however often rotations come (here: as often as allowed).
    let stack = Stack::start(&[("MIN_ROTATION_INTERVAL_MS", "600")]).await;
    let secret = stack.provision(&env_name("hold")).await;
    let stop = Arc::new(AtomicBool::new(false));
    let client = tokio::spawn(holding_client(
        LocalSecretStore::new(stack.control.clone()),
        secret.to_string(),
        Duration::from_millis(300),
        stop.clone(),
    ));

    for round in 0..8 {
        stack.rotate(&secret, &format!("hold-{round}")).await;
    }
    stop.store(true, Ordering::Relaxed);

    let (queries, failures) = client.await.unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(queries > 50, "the pool kept reconnecting ({queries})");
    assert_eq!(stack.info(&secret).await.alias("current"), Some(9));
}

#[tokio::test]
async fn alternating_a_held_credential_works_until_the_second_rotation_after_it_was_read() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("held")).await;
    let held = stack.current(&secret).await;
    let pool = holding_pool(&held);
    let mut open = sqlx::PgConnection::connect_with(&held.options(false).unwrap())
        .await
        .unwrap();

    stack.rotate(&secret, "held-1").await;
    query(&pool)
        .await
        .expect("demoted to `previous`: still logs in");

    stack.rotate(&secret, "held-2").await;
    assert_eq!(
        query(&pool).await.unwrap_err(),
        "28P01",
        "overwritten by the next rotation, as documented"
    );
    sqlx::query("SELECT 1").execute(&mut open).await.unwrap();
    login(&stack.current(&secret).await).await.unwrap();
}

#[tokio::test]
async fn single_user_a_held_credential_fails_after_the_rotation_and_a_re_read_works() {
    // Single-user mode promises less (README, failure window): open connections survive,
    // new ones with the old password fail, and re-reading `current` fixes them.
    let stack = Stack::start(FAST).await;
    let secret = stack.provision_single_user(&env_name("held1")).await;
    let held = stack.current(&secret).await;
    let pool = holding_pool(&held);
    query(&pool).await.unwrap();
    let mut open = sqlx::PgConnection::connect_with(&held.options(false).unwrap())
        .await
        .unwrap();

    stack.rotate(&secret, "held1-1").await;

    assert_eq!(query(&pool).await.unwrap_err(), "28P01");
    sqlx::query("SELECT 1").execute(&mut open).await.unwrap();
    query(&holding_pool(&stack.current(&secret).await))
        .await
        .unwrap();
}

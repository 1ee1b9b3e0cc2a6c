//! The idempotency ledger on a real PostgreSQL: duplicates run once, crashed attempts run
//! again once their lease expires.

mod support;

use std::{
    sync::{atomic::AtomicUsize, atomic::Ordering, Arc},
    time::Duration,
};

use reqwest::StatusCode;
use shared::{
    backends::{publisher::RecordingPublisher, Plan},
    ledger::{Claim, Ledger},
    migrations::MIGRATOR,
};
use support::{counting_handler, ctx, options, ping, post, push_body, spawn};
use testbed::Postgres;

async fn ledger(postgres: &Postgres, lease: Duration) -> Ledger {
    let pool = sqlx::PgPool::connect(&postgres.fresh_database().await)
        .await
        .expect("connect");
    MIGRATOR.run(&pool).await.expect("migrate");
    Ledger::with_pool(pool, "ledger-test", lease)
}

fn recording() -> Arc<RecordingPublisher> {
    Arc::new(RecordingPublisher::new(Plan::default()))
}

#[tokio::test]
async fn a_hundred_concurrent_duplicates_run_the_handler_once() {
    let postgres = Postgres::start().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut opts = options("unused");
    opts.ledger = Some(ledger(&postgres, Duration::from_secs(30)).await);
    let service = spawn(counting_handler(runs.clone()), ctx(recording()), opts, None).await;
    let slow_ping = push_body(
        support::Ping::TYPE_NAME,
        &serde_json::json!({ "behaviour": "done", "sleep_ms": 300 }),
        "dup-1",
    );

    let deliveries = (0..100).map(|_| {
        let (url, body) = (service.url.clone(), slow_ping.clone());
        tokio::spawn(async move { post(&url, body).await })
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(deliveries)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();

    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
    assert!(statuses.contains(&StatusCode::NO_CONTENT));
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::NO_CONTENT || *s == StatusCode::SERVICE_UNAVAILABLE),
        "duplicates are acked or retried, nothing else: {statuses:?}"
    );
    // Pub/Sub redelivers the ones told to retry: now they are acked without running.
    assert_eq!(
        post(&service.url, slow_ping.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_crashed_attempts_lease_expires_and_the_event_runs_again() {
    let postgres = Postgres::start().await;
    let lease = Duration::from_secs(2);
    let ledger = ledger(&postgres, lease).await;
    // A previous process claimed the event and died without settling it.
    match ledger.claim("//tests crash-1").await.expect("claim") {
        Claim::Claimed(guard) => guard.abandon(),
        other => panic!("expected a claim, got {other:?}"),
    }
    let runs = Arc::new(AtomicUsize::new(0));
    let mut opts = options("unused");
    opts.ledger = Some(ledger);
    let service = spawn(counting_handler(runs.clone()), ctx(recording()), opts, None).await;

    let redelivery = ping("done", "crash-1");
    assert_eq!(
        post(&service.url, redelivery.clone()).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "while the lease holds, the event counts as in flight"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    tokio::time::sleep(lease + Duration::from_millis(300)).await;
    assert_eq!(
        post(&service.url, redelivery.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the expired lease let it run again"
    );
    assert_eq!(post(&service.url, redelivery).await, StatusCode::NO_CONTENT);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "and once done, it is done");
}

#[tokio::test]
async fn a_retried_delivery_releases_its_lease_at_once() {
    let postgres = Postgres::start().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut opts = options("unused");
    opts.ledger = Some(ledger(&postgres, Duration::from_secs(300)).await);
    let service = spawn(counting_handler(runs.clone()), ctx(recording()), opts, None).await;

    assert_eq!(
        post(&service.url, ping("retry", "retry-1")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Same event id, now succeeding: no five-minute wait for the lease.
    assert_eq!(
        post(&service.url, ping("done", "retry-1")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panic_releases_the_lease_so_the_redelivery_runs() {
    let postgres = Postgres::start().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut opts = options("unused");
    opts.ledger = Some(ledger(&postgres, Duration::from_secs(300)).await);
    let service = spawn(counting_handler(runs.clone()), ctx(recording()), opts, None).await;

    assert_eq!(
        post(&service.url, ping("panic", "panic-1")).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // The release happens in the background right after the panic.
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..20 {
        status = post(&service.url, ping("done", "panic-1")).await;
        if status == StatusCode::NO_CONTENT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

/// The lease of `key` runs out now, as if its holder had overrun it (no waiting).
async fn expire_lease(pool: &sqlx::PgPool, key: &str) {
    sqlx::query(
        "UPDATE control.deliveries SET lease_until = now() - interval '1 second'
          WHERE event_key = $1",
    )
    .bind(key)
    .execute(pool)
    .await
    .expect("expire the lease");
}

async fn claimed(ledger: &Ledger, key: &str) -> shared::ledger::ClaimGuard {
    match ledger.claim(key).await.expect("claim") {
        Claim::Claimed(guard) => guard,
        other => panic!("expected a claim of {key}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_worker_that_overran_its_lease_cannot_settle_the_next_claim() {
    let postgres = Postgres::start().await;
    let pool = sqlx::PgPool::connect(&postgres.fresh_database().await)
        .await
        .expect("connect");
    MIGRATOR.run(&pool).await.expect("migrate");
    let ledger = Ledger::with_pool(pool.clone(), "ledger-test", Duration::from_secs(300));

    // Worker 1 overruns; worker 2 takes the event over; worker 1 then gives it back.
    let first = claimed(&ledger, "//tests late-release").await;
    expire_lease(&pool, "//tests late-release").await;
    let second = claimed(&ledger, "//tests late-release").await;
    assert!(
        first.release().await.is_err(),
        "a settle of a lost claim is an error, not a silent success"
    );
    assert!(
        matches!(
            ledger.claim("//tests late-release").await,
            Ok(Claim::InFlight)
        ),
        "the late release must not free worker 2's lease for a third worker"
    );

    // The same for a late completion: it must not mark worker 2's run done.
    let first = claimed(&ledger, "//tests late-complete").await;
    expire_lease(&pool, "//tests late-complete").await;
    let third = claimed(&ledger, "//tests late-complete").await;
    assert!(first.complete("done").await.is_err());
    assert!(
        matches!(
            ledger.claim("//tests late-complete").await,
            Ok(Claim::InFlight)
        ),
        "the late completion must not settle worker 2's claim"
    );

    // The current holders settle normally.
    second.complete("done").await.expect("holder completes");
    third.release().await.expect("holder releases");
    assert!(matches!(
        ledger.claim("//tests late-release").await,
        Ok(Claim::AlreadyDone)
    ));
    assert!(matches!(
        ledger.claim("//tests late-complete").await,
        Ok(Claim::Claimed(_))
    ));
}

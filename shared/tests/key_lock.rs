//! The key lock on a real PostgreSQL: single-flight per key, and holding locks never starves
//! the pool the holders work with.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use shared::lock::KeyLock;
use sqlx::postgres::PgPoolOptions;
use testbed::Postgres;

#[tokio::test]
async fn as_many_lock_holders_as_pool_connections_still_get_connections_for_their_work() {
    let postgres = Postgres::start().await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&postgres.fresh_database().await)
        .await
        .unwrap();
    // Four deliveries for four different names, as many as the pool has connections: each
    // holds its lock, then does its work with the pool.
    let holders = (0..4).map(|i| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let lock = KeyLock::try_acquire(&pool, format!("test:{i}"))
                .await
                .unwrap()
                .expect("nobody else holds this key");
            tokio::time::sleep(Duration::from_millis(200)).await;
            let work: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&pool).await?;
            lock.release().await.unwrap();
            Ok::<_, sqlx::Error>(work)
        })
    });
    for result in futures::future::join_all(holders).await {
        assert_eq!(result.unwrap().expect("work got a connection"), 1);
    }
}

#[tokio::test]
async fn a_key_is_held_once_and_free_again_when_released_or_dropped() {
    let postgres = Postgres::start().await;
    let pool = sqlx::PgPool::connect(&postgres.fresh_database().await)
        .await
        .unwrap();
    let first = KeyLock::try_acquire(&pool, "test:shop".into())
        .await
        .unwrap();
    assert!(first.is_some());
    assert!(KeyLock::try_acquire(&pool, "test:shop".into())
        .await
        .unwrap()
        .is_none());
    assert!(KeyLock::try_acquire(&pool, "test:other".into())
        .await
        .unwrap()
        .is_some());
    first.unwrap().release().await.unwrap();
    let second = KeyLock::try_acquire(&pool, "test:shop".into())
        .await
        .unwrap();
    assert!(second.is_some(), "free after release");
    drop(second);
    // The server ends the dropped session's lock once it sees the socket closed.
    let mut again = None;
    for _ in 0..50 {
        again = KeyLock::try_acquire(&pool, "test:shop".into())
            .await
            .unwrap();
        if again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "free after the holder was dropped");
}

//! The ledger keeps no settled entry forever: old ones are pruned in bounded batches.

use std::time::Duration;

use shared::{ledger::Ledger, migrations::MIGRATOR};
use testbed::Postgres;

#[tokio::test]
async fn pruning_removes_only_old_settled_entries_a_batch_at_a_time() {
    let postgres = Postgres::start().await;
    let pool = sqlx::PgPool::connect(&postgres.fresh_database().await)
        .await
        .expect("connect");
    MIGRATOR.run(&pool).await.expect("migrate");
    let ledger = Ledger::with_pool(pool.clone(), "ledger-test", Duration::from_secs(300));
    let insert = |service: &'static str, key: &'static str, status: &'static str, days: i32| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO control.deliveries (service, event_key, status, lease_until, updated_at)
                 VALUES ($1, $2, $3, now(), now() - make_interval(days => $4))",
            )
            .bind(service)
            .bind(key)
            .bind(status)
            .bind(days)
            .execute(&pool)
            .await
            .expect("insert");
        }
    };
    for key in ["old-1", "old-2", "old-3"] {
        insert("ledger-test", key, "done", 40).await;
    }
    insert("ledger-test", "recent", "done", 1).await;
    insert("ledger-test", "old-running", "running", 40).await;
    insert("other-service", "old-other", "done", 40).await;

    let retention = Duration::from_secs(32 * 24 * 3600);
    assert_eq!(
        ledger.prune(retention, 2).await.expect("prune"),
        2,
        "one bounded batch"
    );
    assert_eq!(ledger.prune(retention, 2).await.expect("prune"), 1);
    assert_eq!(ledger.prune(retention, 2).await.expect("prune"), 0);
    let left: Vec<String> =
        sqlx::query_scalar("SELECT service || '/' || event_key FROM control.deliveries ORDER BY 1")
            .fetch_all(&pool)
            .await
            .expect("select");
    assert_eq!(
        left,
        [
            "ledger-test/old-running",
            "ledger-test/recent",
            "other-service/old-other"
        ],
        "recent, unsettled and other services' entries stay"
    );
}

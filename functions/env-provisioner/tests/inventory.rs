//! The read-only inventory others use instead of SQL on the provisioner's tables, against a
//! real, migrated control database.

use chrono::{TimeZone as _, Utc};
use env_provisioner::inventory::{self, Decision};
use events::names::EnvName;
use events::Tier;
use sqlx::PgPool;
use testbed::Postgres;

async fn control(postgres: &Postgres) -> PgPool {
    let pool = PgPool::connect(&postgres.fresh_database().await)
        .await
        .expect("connect");
    shared::ledger::control_migrator(&env_provisioner::migrations::MIGRATOR)
        .expect("no version clash")
        .run(&pool)
        .await
        .expect("migrate");
    pool
}

async fn row(pool: &PgPool, name: &str, tier: &str, status: &str, failure: Option<&str>) {
    sqlx::query(
        "INSERT INTO control.environments \
         (name, spec, spec_hash, owner, tier, status, failure, expires_at, request_id) \
         VALUES ($1, '{}', 'h', 'dev@example.com', $2, $3, $4::jsonb, \
                 '2030-01-02T03:04:05Z', 'r-' || $1)",
    )
    .bind(name)
    .bind(tier)
    .bind(status)
    .bind(failure)
    .execute(pool)
    .await
    .expect("insert an environment");
}

fn env(name: &str) -> EnvName {
    name.parse().expect("valid name")
}

#[tokio::test]
async fn inventory_lists_gets_and_names_the_credentials_secret() {
    let postgres = Postgres::start().await;
    let pool = control(&postgres).await;
    row(&pool, "shop", "dev", "ready", None).await;
    row(&pool, "blog", "ephemeral", "deleted", None).await;
    row(
        &pool,
        "cart",
        "staging",
        "failed",
        Some(r#"{"step":"database","reason":"disk full"}"#),
    )
    .await;

    let all = inventory::list(&pool).await.expect("list");
    let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["blog", "cart", "shop"], "every row, by name");
    assert!(all[0].is_deleted());

    let shop = inventory::get(&pool, &env("shop"))
        .await
        .expect("get")
        .expect("shop exists");
    assert!(shop.is_ready());
    assert_eq!(shop.tier, Tier::Dev);
    assert_eq!(shop.owner, "dev@example.com");
    assert_eq!(
        shop.expires_at,
        Some(Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap())
    );
    assert_eq!(
        shop.credentials_secret().map(|s| s.as_str().to_owned()),
        Some("dev-shop-db-credentials".to_owned())
    );

    let cart = inventory::get(&pool, &env("cart")).await.expect("get");
    let failure = cart.and_then(|c| c.failure).expect("a failure");
    assert_eq!(
        (failure.step.as_str(), failure.reason.as_str()),
        ("database", "disk full")
    );

    assert_eq!(
        inventory::get(&pool, &env("nope")).await.expect("get"),
        None
    );
}

#[tokio::test]
async fn inventory_decisions_and_the_latest_refusal() {
    let postgres = Postgres::start().await;
    let pool = control(&postgres).await;
    for (id, decision, reason, at) in [
        ("req-1", "refused", Some("quota"), "2030-01-01T00:00:00Z"),
        (
            "req-2",
            "refused",
            Some("tier prod"),
            "2030-01-01T00:00:01Z",
        ),
        ("req-3", "accepted", None, "2030-01-01T00:00:02Z"),
    ] {
        sqlx::query(
            "INSERT INTO control.environment_requests (request_id, name, decision, reason, decided_at) \
             VALUES ($1, 'shop', $2, $3, $4::timestamptz)",
        )
        .bind(id)
        .bind(decision)
        .bind(reason)
        .bind(at)
        .execute(&pool)
        .await
        .expect("insert a decision");
    }
    let shop = env("shop");
    assert_eq!(
        inventory::decision(&pool, &shop, "req-1")
            .await
            .expect("decision"),
        Some(Decision::Refused("quota".into()))
    );
    assert_eq!(
        inventory::decision(&pool, &shop, "req-3")
            .await
            .expect("decision"),
        Some(Decision::Accepted)
    );
    // A request id for another name is not this name's decision.
    assert_eq!(
        inventory::decision(&pool, &env("blog"), "req-1")
            .await
            .expect("decision"),
        None
    );
    let (reason, _) = inventory::latest_refusal(&pool, &shop)
        .await
        .expect("refusal")
        .expect("refused twice");
    assert_eq!(reason, "tier prod", "the newest refusal");
    assert_eq!(
        inventory::latest_refusal(&pool, &env("blog"))
            .await
            .expect("refusal"),
        None
    );
}

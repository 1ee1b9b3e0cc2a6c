//! Setup shared by the verification and restore tests: a seeded database, its dump and
//! manifest, and a look at which scratch databases exist.
#![allow(dead_code)] // each test binary uses its own part of this module
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use backup_runner::backup::BackupJob;
use backup_runner::dump::{dump_database, Target};
use backup_runner::manifest::Manifest;
use backup_runner::store::BackupLocation;
use chrono::{TimeDelta, TimeZone, Utc};
use events::Tier;
use shared::backends::object_store::ObjectStore;
use sqlx::{Connection, PgConnection};
use testbed::Postgres;

/// The superuser on database `name` of `pg`.
pub fn target(pg: &Postgres, name: &str) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port: pg.port(),
        user: "postgres".into(),
        password: None,
        database: name.into(),
        session_role: None,
    }
}

/// The superuser on the `postgres` database: the runner's admin connection.
pub fn admin(pg: &Postgres) -> Target {
    target(pg, "postgres")
}

/// A fresh database with several tables: a quoted mixed-case name, a non-public schema
/// with awkward types, an empty table.
pub async fn seeded(pg: &Postgres) -> Target {
    let url = pg.fresh_database().await;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    for statement in [
        "CREATE TABLE items (id serial PRIMARY KEY, label text)",
        "INSERT INTO items (label) SELECT 'item ' || n FROM generate_series(1, 30) n",
        r#"CREATE TABLE "MixedCase" ("Key" text PRIMARY KEY, t int)"#,
        r#"INSERT INTO "MixedCase" SELECT 'k' || n, n * 7 FROM generate_series(1, 11) n"#,
        "CREATE SCHEMA ledger",
        "CREATE TABLE ledger.entries (id bigint, amount numeric(12,2), meta jsonb, at timestamptz)",
        "INSERT INTO ledger.entries SELECT n, n * 1.25, jsonb_build_object('n', n), \
         '2026-01-01'::timestamptz + n * interval '1 hour' FROM generate_series(1, 50) n",
        "INSERT INTO ledger.entries VALUES (51, NULL, NULL, NULL)",
        "CREATE TABLE empty_one (n int)",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    target(pg, url.rsplit('/').next().unwrap())
}

/// A fresh database holding `rows` incompressible rows (two md5 columns, ~66 bytes a row), so
/// that its dump is large and takes a while.
pub async fn noisy(pg: &Postgres, rows: u32) -> Target {
    let url = pg.fresh_database().await;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TABLE noise AS SELECT md5(random()::text) AS a, md5(random()::text) AS b \
         FROM generate_series(1, $1)",
    )
    .bind(i64::from(rows))
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    target(pg, url.rsplit('/').next().unwrap())
}

/// The backup of `target` into `store` for the 2026-03-07 window, due within the hour.
pub fn job<'a>(store: &'a dyn ObjectStore, target: &'a Target) -> BackupJob<'a> {
    let window = Utc.with_ymd_and_hms(2026, 3, 7, 3, 0, 0).unwrap();
    BackupJob {
        store,
        location: BackupLocation::for_window(
            "pr-7".parse().unwrap(),
            "app_db".parse().unwrap(),
            window,
        ),
        target,
        pg_dump: None,
        tier: Tier::Dev,
        window_id: "w".into(),
        deadline: Utc::now() + TimeDelta::hours(1),
    }
}

/// The manifest keys of [`seeded`]'s tables and their counts.
pub fn seeded_counts() -> Vec<(&'static str, i64)> {
    vec![
        (r#"public."MixedCase""#, 11),
        ("ledger.entries", 51),
        ("public.empty_one", 0),
        ("public.items", 30),
    ]
}

/// A seeded database, its dump made by the crate's own `dump_database`, and the manifest
/// a backup would have written for it.
pub async fn dumped(pg: &Postgres) -> (Target, Vec<u8>, Manifest) {
    let source = seeded(pg).await;
    let mut archive = Vec::new();
    let report = dump_database(&source, None, &mut archive).await.unwrap();
    let window = Utc.with_ymd_and_hms(2026, 3, 7, 3, 0, 0).unwrap();
    let location =
        BackupLocation::for_window("pr-7".parse().unwrap(), "app_db".parse().unwrap(), window);
    let manifest = Manifest::new(&location, Tier::Dev, "w1", window, Utc::now(), &report);
    (source, archive, manifest)
}

/// The scratch databases that exist on `pg` now.
pub async fn scratch_databases(pg: &Postgres) -> Vec<String> {
    let mut conn = PgConnection::connect(&pg.admin_url()).await.unwrap();
    sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'gk\\_verify\\_%'")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

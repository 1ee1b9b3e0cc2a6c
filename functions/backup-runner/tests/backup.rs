//! One backup end to end against a real PostgreSQL into a directory store: the dump and its
//! manifest under the layout's keys, a manifest that matches the object, no password
//! anywhere, and a second backup of the same window refused without touching the first.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use backup_runner::backup::back_up;
use backup_runner::dump::Target;
use backup_runner::manifest::{Manifest, MANIFEST_FORMAT};
use backup_runner::store::{BackupLocation, CreateOnlyDir};
use chrono::{TimeZone, Utc};
use events::Tier;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use testbed::Postgres;

const PASSWORD: &str = "hunter2-Zq8xV7-never-stored";

/// A database with rows, dumped by a role that has a password.
async fn database_with_password(pg: &Postgres) -> Target {
    let url = pg.fresh_database().await;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    for statement in [
        "CREATE TABLE items (id serial PRIMARY KEY, label text)".to_owned(),
        "INSERT INTO items (label) SELECT 'item ' || n FROM generate_series(1, 12) n".to_owned(),
        "DO $$ BEGIN CREATE ROLE backup_login LOGIN SUPERUSER; \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            .to_owned(),
        format!("ALTER ROLE backup_login PASSWORD '{PASSWORD}'"),
    ] {
        sqlx::query(&statement).execute(&mut conn).await.unwrap();
    }
    Target {
        host: "127.0.0.1".into(),
        port: pg.port(),
        user: "backup_login".into(),
        password: Some(PASSWORD.to_owned().into()),
        database: url.rsplit('/').next().unwrap().into(),
    }
}

/// A running PostgreSQL (kept alive by the caller), the target, an empty directory store
/// and the window's location.
async fn setup() -> (
    Postgres,
    Target,
    tempfile::TempDir,
    CreateOnlyDir,
    BackupLocation,
) {
    let pg = Postgres::start().await;
    let target = database_with_password(&pg).await;
    let dir = tempfile::tempdir().unwrap();
    let store = CreateOnlyDir::new(dir.path());
    let window = Utc.with_ymd_and_hms(2026, 3, 7, 3, 0, 0).unwrap();
    let location =
        BackupLocation::for_window("pr-7".parse().unwrap(), "app_db".parse().unwrap(), window);
    (pg, target, dir, store, location)
}

#[tokio::test]
async fn a_backup_writes_the_dump_then_a_matching_manifest_and_never_a_password() {
    let (_pg, target, dir, store, location) = setup().await;

    let manifest = back_up(&store, &location, &target, None, Tier::Dev, "w-20260307")
        .await
        .unwrap();

    let dump = std::fs::read(dir.path().join(location.dump_key())).unwrap();
    let stored: Manifest =
        serde_json::from_slice(&std::fs::read(dir.path().join(location.manifest_key())).unwrap())
            .unwrap();
    assert_eq!(stored, manifest);
    assert_eq!(stored.format, MANIFEST_FORMAT);
    assert_eq!(stored.sha256, format!("{:x}", Sha256::digest(&dump)));
    assert_eq!(stored.crc32c, crc32c::crc32c(&dump));
    assert_eq!(stored.size, dump.len() as u64);
    assert_eq!(stored.row_counts.get("public.items"), Some(&12));
    assert_eq!(stored.environment.as_str(), "pr-7");
    assert_eq!(stored.database.as_str(), "app_db");
    assert_eq!(stored.tier, Tier::Dev);
    assert_eq!(stored.window_id, "w-20260307");
    assert_eq!(stored.object, location.dump_key());
    assert!(stored.started_at <= stored.finished_at);
    assert!(
        stored.pg_dump_version.contains("pg_dump"),
        "{}",
        stored.pg_dump_version
    );
    assert!(stored.server_version >= 150000, "{}", stored.server_version);

    // Neither object (nor anything else in the store) holds the password.
    for key in [location.dump_key(), location.manifest_key()] {
        let bytes = std::fs::read(dir.path().join(&key)).unwrap();
        let found = bytes
            .windows(PASSWORD.len())
            .any(|window| window == PASSWORD.as_bytes());
        assert!(!found, "{key} contains the password");
    }
    assert!(!format!("{manifest:?}").contains(PASSWORD));
}

#[tokio::test]
async fn a_second_backup_of_the_same_window_is_refused_and_the_first_stays() {
    let (_pg, target, dir, store, location) = setup().await;
    back_up(&store, &location, &target, None, Tier::Dev, "w1")
        .await
        .unwrap();
    let dump = std::fs::read(dir.path().join(location.dump_key())).unwrap();
    let manifest = std::fs::read(dir.path().join(location.manifest_key())).unwrap();

    let error = back_up(&store, &location, &target, None, Tier::Dev, "w1")
        .await
        .unwrap_err();
    assert_eq!(error.step(), "upload", "{error}");
    assert_eq!(
        std::fs::read(dir.path().join(location.dump_key())).unwrap(),
        dump
    );
    assert_eq!(
        std::fs::read(dir.path().join(location.manifest_key())).unwrap(),
        manifest
    );
}

#[tokio::test]
async fn a_failed_dump_leaves_no_object_and_no_manifest() {
    let (_pg, mut target, dir, store, location) = setup().await;
    target.database = "no_such_database".into();
    let error = back_up(&store, &location, &target, None, Tier::Dev, "w1")
        .await
        .unwrap_err();
    assert_eq!(error.step(), "dump", "{error}");
    assert!(!error.to_string().contains(PASSWORD));
    assert!(!dir.path().join(location.dump_key()).exists());
    assert!(!dir.path().join(location.manifest_key()).exists());
}

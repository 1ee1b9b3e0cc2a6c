//! One backup end to end against a real PostgreSQL into a directory store: the dump and its
//! manifest under the layout's keys, a manifest that matches the object, no password
//! anywhere, and a second backup of the same window refused without touching the first.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use backup_runner::backup::{BackupJob, Stored};
use backup_runner::dump::Target;
use backup_runner::manifest::{Manifest, MANIFEST_FORMAT};
use backup_runner::pending::PendingBackup;
use backup_runner::store::BackupLocation;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use events::Tier;
use sha2::{Digest, Sha256};
use shared::backends::object_store::FileStore;
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
        session_role: None,
    }
}

/// A running PostgreSQL (kept alive by the caller), the target, an empty directory store
/// and the window's location.
async fn setup() -> (
    Postgres,
    Target,
    tempfile::TempDir,
    FileStore,
    BackupLocation,
) {
    let pg = Postgres::start().await;
    let target = database_with_password(&pg).await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().to_str().unwrap()).await.unwrap();
    let window = Utc.with_ymd_and_hms(2026, 3, 7, 3, 0, 0).unwrap();
    let location =
        BackupLocation::for_window("pr-7".parse().unwrap(), "app_db".parse().unwrap(), window);
    (pg, target, dir, store, location)
}

/// The job for `location`, due to finish within the hour.
fn job<'a>(store: &'a FileStore, location: &BackupLocation, target: &'a Target) -> BackupJob<'a> {
    job_until(store, location, target, Utc::now() + TimeDelta::hours(1))
}

fn job_until<'a>(
    store: &'a FileStore,
    location: &BackupLocation,
    target: &'a Target,
    deadline: DateTime<Utc>,
) -> BackupJob<'a> {
    BackupJob {
        store,
        location: location.clone(),
        target,
        pg_dump: None,
        tier: Tier::Dev,
        window_id: "w-20260307".into(),
        deadline,
    }
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn a_backup_writes_the_dump_then_a_matching_manifest_and_never_a_password() {
    let (_pg, target, dir, store, location) = setup().await;

    let stored = job(&store, &location, &target).run().await.unwrap();
    let Stored::New(manifest) = stored else {
        panic!("expected a new backup, got {stored:?}")
    };

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
    // Exactly the dump and its manifest: the pending record is gone.
    assert_eq!(
        files(dir.path()),
        [location.dump_key(), location.manifest_key()]
    );

    // Neither object holds the password.
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
async fn a_second_run_of_the_same_window_dumps_nothing_and_the_first_stays() {
    let (_pg, mut target, dir, store, location) = setup().await;
    let first = job(&store, &location, &target).run().await.unwrap();
    let dump = std::fs::read(dir.path().join(location.dump_key())).unwrap();
    let manifest = std::fs::read(dir.path().join(location.manifest_key())).unwrap();

    // Were it to dump again it would fail: the database is gone for this run.
    target.database = "no_such_database".into();
    let second = job(&store, &location, &target).run().await.unwrap();
    assert_eq!(second, Stored::Existing(first.manifest().clone()));
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
async fn a_dump_stored_without_its_manifest_gets_the_manifest_it_should_have_had() {
    let (_pg, mut target, dir, store, location) = setup().await;
    let Stored::New(first) = job(&store, &location, &target).run().await.unwrap() else {
        panic!("expected a new backup")
    };
    // The state a crash between the dump and the manifest leaves: dump and pending record.
    std::fs::remove_file(dir.path().join(location.manifest_key())).unwrap();
    let pending = PendingBackup {
        started_at: first.started_at,
        pg_dump_version: first.pg_dump_version.clone(),
        server_version: first.server_version,
        row_counts: first.row_counts.clone(),
    };
    std::fs::write(dir.path().join(location.pending_key()), pending.to_json()).unwrap();
    let dump = std::fs::read(dir.path().join(location.dump_key())).unwrap();

    target.database = "no_such_database".into();
    let Stored::New(second) = job(&store, &location, &target).run().await.unwrap() else {
        panic!("expected the manifest to be written")
    };
    assert_eq!(
        std::fs::read(dir.path().join(location.dump_key())).unwrap(),
        dump
    );
    assert_eq!(
        Manifest {
            finished_at: first.finished_at,
            ..second.clone()
        },
        first
    );
    assert_eq!(
        files(dir.path()),
        [location.dump_key(), location.manifest_key()]
    );
}

#[tokio::test]
async fn a_dump_stored_without_manifest_or_pending_record_is_left_alone() {
    let (_pg, target, dir, store, location) = setup().await;
    std::fs::create_dir_all(dir.path().join(location.dump_key()).parent().unwrap()).unwrap();
    std::fs::write(dir.path().join(location.dump_key()), b"PGDMP not ours").unwrap();
    let error = job(&store, &location, &target).run().await.unwrap_err();
    assert_eq!(error.step(), "manifest", "{error}");
    assert!(error.to_string().contains("left alone"), "{error}");
    assert_eq!(files(dir.path()), [location.dump_key()]);
}

#[tokio::test]
async fn a_failed_dump_leaves_no_object_and_no_manifest() {
    let (_pg, mut target, dir, store, location) = setup().await;
    target.database = "no_such_database".into();
    let error = job(&store, &location, &target).run().await.unwrap_err();
    assert_eq!(error.step(), "dump", "{error}");
    assert!(!error.to_string().contains(PASSWORD));
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
}

#[tokio::test]
async fn a_dump_past_its_completion_window_is_cancelled_and_leaves_no_dump() {
    let (_pg, target, dir, store, location) = setup().await;
    let error = job_until(&store, &location, &target, Utc::now())
        .run()
        .await
        .unwrap_err();
    assert_eq!(error.step(), "window", "{error}");
    // Nothing: no dump, no temp file (the pending record comes only with a complete dump).
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
}

#[tokio::test]
async fn a_backup_to_cloud_storage_streams_the_dump_and_manifest_and_a_second_run_dumps_nothing() {
    let pg = Postgres::start().await;
    let target = database_with_password(&pg).await;
    let gcs = testbed::FakeGcs::start().await;
    gcs.create_bucket("backups-test").await;
    let store =
        shared::backends::object_store::from_url("gs://backups-test", Some(&gcs.endpoint()))
            .await
            .unwrap();
    let window = Utc.with_ymd_and_hms(2026, 3, 7, 3, 0, 0).unwrap();
    let location =
        BackupLocation::for_window("pr-7".parse().unwrap(), "app_db".parse().unwrap(), window);
    let job = |target| BackupJob {
        store: store.as_ref(),
        location: location.clone(),
        target,
        pg_dump: None,
        tier: Tier::Dev,
        window_id: "w".into(),
        deadline: Utc::now() + TimeDelta::hours(1),
    };
    let Stored::New(manifest) = job(&target).run().await.unwrap() else {
        panic!("expected a new backup")
    };
    let dump = store.get(&location.dump_key()).await.unwrap().unwrap();
    assert_eq!(manifest.sha256, format!("{:x}", Sha256::digest(&dump)));
    assert_eq!(manifest.size, dump.len() as u64);
    let mut objects = gcs.list_objects("backups-test").await;
    objects.sort();
    assert_eq!(objects, [location.dump_key(), location.manifest_key()]);

    let gone = Target {
        database: "no_such_database".into(),
        ..target.clone()
    };
    let again = job(&gone).run().await.unwrap();
    assert_eq!(again, Stored::Existing(manifest));
}

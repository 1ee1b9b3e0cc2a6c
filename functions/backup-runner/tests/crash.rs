//! kill -9 mid-upload, then the redelivery: one complete dump and its manifest, and never a
//! truncated object under the dump's name. The backup runs in a child process (this test
//! binary, re-executed) so the kill is a real SIGKILL of the process writing.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::Duration;

use backup_runner::backup::{BackupJob, Stored};
use backup_runner::dump::Target;
use backup_runner::store::BackupLocation;
use backup_runner::verify::verify_backup;
use chrono::{TimeDelta, TimeZone, Utc};
use events::Tier;
use shared::backends::object_store::{FileStore, ObjectStore};
use sqlx::{Connection, PgConnection};
use testbed::Postgres;

const TEST: &str = "a_backup_killed_mid_upload_is_redone_whole_on_redelivery";
/// Set in the child: `host port database store-dir`.
const CHILD: &str = "BACKUP_RUNNER_CRASH_CHILD";

fn location() -> BackupLocation {
    let window = Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0).unwrap();
    BackupLocation::for_window("shop".parse().unwrap(), "shop_db".parse().unwrap(), window)
}

fn target(host: &str, port: u16, database: &str) -> Target {
    Target {
        host: host.into(),
        port,
        user: "postgres".into(),
        password: None,
        database: database.into(),
        session_role: None,
    }
}

async fn back_up(target: &Target, dir: &Path) -> Stored {
    let store = FileStore::new(dir.to_str().unwrap()).await.unwrap();
    let job = BackupJob {
        store: &store,
        location: location(),
        target,
        pg_dump: None,
        tier: Tier::Dev,
        window_id: "w".into(),
        deadline: Utc::now() + TimeDelta::hours(1),
    };
    job.run().await.unwrap()
}

/// The bytes under `dir`'s temp files (uploads in progress).
fn in_progress(dir: &Path) -> u64 {
    walk(dir)
        .iter()
        .filter(|p| !p.ends_with(".dump") && !p.ends_with(".json"))
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path.display().to_string());
        }
    }
    found
}

#[tokio::test]
async fn a_backup_killed_mid_upload_is_redone_whole_on_redelivery() {
    // The child's orders come through its environment: it is this test binary, re-executed.
    #[allow(clippy::disallowed_methods)]
    if let Ok(spec) = std::env::var(CHILD) {
        let parts: Vec<&str> = spec.split(' ').collect();
        let target = target(parts[0], parts[1].parse().unwrap(), parts[2]);
        back_up(&target, Path::new(parts[3])).await;
        return;
    }
    let pg = Postgres::start().await;
    let url = pg.fresh_database().await;
    let database = url.rsplit('/').next().unwrap().to_owned();
    let mut conn = PgConnection::connect(&url).await.unwrap();
    // Incompressible enough that the dump takes a while to stream.
    sqlx::raw_sql(
        "CREATE TABLE blobs (id int, body text);
         INSERT INTO blobs SELECT n, md5(n::text) || md5((n * 7)::text) || md5((n * 13)::text)
           FROM generate_series(1, 1500000) n;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture"])
        .env(
            CHILD,
            format!(
                "127.0.0.1 {} {database} {}",
                pg.port(),
                dir.path().display()
            ),
        )
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the upload is well under way (or the test fails: it finished first).
    loop {
        if in_progress(dir.path()) > 4 * 1024 * 1024 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backup finished before the kill"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let store = FileStore::new(dir.path().to_str().unwrap()).await.unwrap();
    let location = location();
    assert!(
        store.head(&location.dump_key()).await.unwrap().is_none(),
        "no dump after the kill"
    );
    assert!(
        in_progress(dir.path()) > 0,
        "the killed upload left only its temp file"
    );

    // The redelivery.
    let target = target("127.0.0.1", pg.port(), &database);
    let Stored::New(manifest) = back_up(&target, dir.path()).await else {
        panic!("expected a new backup")
    };
    let listed: Vec<String> = store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(listed, [location.dump_key(), location.manifest_key()]);
    assert_eq!(manifest.row_counts.get("public.blobs"), Some(&1_500_000));
    let archive = store
        .get_stream(&location.dump_key())
        .await
        .unwrap()
        .unwrap();
    let admin = target_of_admin(&pg);
    let record = verify_backup(archive, &manifest, &admin, None)
        .await
        .unwrap();
    assert!(record.passed, "{record:?}");
}

fn target_of_admin(pg: &Postgres) -> Target {
    target("127.0.0.1", pg.port(), "postgres")
}

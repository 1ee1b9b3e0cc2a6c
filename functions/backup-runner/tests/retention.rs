//! Retention against a real `file://` store: 60 simulated nights of backups with retention
//! run after each, ending in exactly the grandfather-father-son set written out below; the
//! floor, a deletion cut short by a crash, and a store that refuses a deletion.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::BTreeMap;

use backup_runner::catalog::{list_backups, Scope};
use backup_runner::manifest::{Manifest, MANIFEST_FORMAT};
use backup_runner::retention::{apply, plan, Applied, KeepReason, RetentionPolicy};
use backup_runner::store::BackupLocation;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use events::Tier;
use shared::backends::object_store::{FileStore, ObjectStore};
use tempfile::TempDir;

/// A fresh `file://` store in a temporary directory (kept alive by the returned guard).
async fn file_store() -> (TempDir, FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path()).await.unwrap();
    (dir, store)
}

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

/// `first..=last`, for writing the expected dailies.
fn days(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// 03:00 UTC on `day`, the nightly window.
fn window(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(3, 0, 0).unwrap().and_utc()
}

/// Writes a tiny fake backup of `env/db` made in the window of `day` and finished
/// `took` later, with a verification record (extra fields included) when `passed` is set.
async fn write_backup(
    store: &FileStore,
    (env, db, tier): (&str, &str, Tier),
    day: NaiveDate,
    took: Duration,
    passed: Option<bool>,
) -> BackupLocation {
    let at = window(day);
    let location = BackupLocation::for_window(env.parse().unwrap(), db.parse().unwrap(), at);
    let dump = format!("PGDMP fake dump of {env}/{db} on {day}").into_bytes();
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        backup_id: location.backup_id.clone(),
        environment: location.environment.clone(),
        database: location.database.clone(),
        tier,
        window_id: location.backup_id.as_str().to_owned(),
        started_at: at,
        finished_at: at + took,
        object: location.dump_key(),
        sha256: "0".repeat(64),
        crc32c: 0,
        size: dump.len() as u64,
        pg_dump_version: "pg_dump (PostgreSQL) 15.8".into(),
        server_version: 150_008,
        row_counts: BTreeMap::from([("public.items".into(), 12)]),
    };
    put(store, &location.dump_key(), dump).await;
    put(store, &location.manifest_key(), manifest.to_json()).await;
    if let Some(passed) = passed {
        let record = serde_json::json!({ "passed": passed, "restored_rows": 12, "detail": "x" });
        put(
            store,
            &location.verification_key(),
            record.to_string().into_bytes(),
        )
        .await;
    }
    location
}

async fn put(store: &FileStore, key: &str, bytes: Vec<u8>) {
    store
        .put(key, bytes.into(), "application/octet-stream")
        .await
        .unwrap();
}

/// One retention run over the whole store at `now`.
async fn run_retention(store: &FileStore, policy: &RetentionPolicy, now: DateTime<Utc>) -> Applied {
    let catalog = list_backups(store, Scope::All).await.unwrap();
    apply(store, &plan(&catalog.backups, policy, now))
        .await
        .unwrap()
}

/// Every key under `prefix`, sorted.
async fn keys(store: &FileStore, prefix: &str) -> Vec<String> {
    store
        .list(prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
}

/// The keys of complete, verified backups of `env/db` on `dates` (dump, manifest, record).
fn backup_keys(env: &str, db: &str, dates: &[NaiveDate]) -> Vec<String> {
    let mut keys: Vec<String> = dates
        .iter()
        .flat_map(|d| {
            let l =
                BackupLocation::for_window(env.parse().unwrap(), db.parse().unwrap(), window(*d));
            [l.dump_key(), l.manifest_key(), l.verification_key()]
        })
        .collect();
    keys.sort();
    keys
}

const APP: (&str, &str, Tier) = ("shop", "app", Tier::Dev);
const LEGACY: (&str, &str, Tier) = ("shop", "legacy", Tier::Dev);
const STAGING: (&str, &str, Tier) = ("shop-staging", "app", Tier::Staging);
const PROD: (&str, &str, Tier) = ("shop-prod", "app", Tier::Prod);

/// Objects under `shop/app` that retention must never touch: a dump with no manifest, an
/// unparsable manifest, a manifest copied under another key (with its dump), a stray file.
async fn write_strays(store: &FileStore) -> Vec<String> {
    let original = write_backup(store, PROD, date(3, 1), Duration::minutes(5), Some(true)).await;
    let manifest = store.get(&original.manifest_key()).await.unwrap().unwrap();
    let strays = [
        (
            "backups/shop/app/2026/03/01/stray.dump",
            b"PGDMP orphan".to_vec(),
        ),
        (
            "backups/shop/app/2026/03/01/broken.manifest.json",
            b"{not json".to_vec(),
        ),
        (
            "backups/shop/app/2026/03/02/20260301t030000z.manifest.json",
            manifest.to_vec(),
        ),
        (
            "backups/shop/app/2026/03/02/20260301t030000z.dump",
            b"PGDMP copy".to_vec(),
        ),
        ("backups/shop/app/README.txt", b"notes".to_vec()),
    ];
    for (key, bytes) in &strays {
        put(store, key, bytes.clone()).await;
    }
    strays.iter().map(|(key, _)| (*key).to_owned()).collect()
}

#[tokio::test]
async fn sixty_nights_of_retention_keep_exactly_the_gfs_set() {
    let (_dir, store) = file_store().await;
    let policy = RetentionPolicy::default();
    let strays = write_strays(&store).await;
    let took = Duration::minutes(5);
    for day in days(date(3, 1), date(4, 29)) {
        let app_passed = day != date(4, 12) && day != date(4, 19); // two Sundays fail
        write_backup(&store, APP, day, took, Some(app_passed)).await;
        write_backup(&store, LEGACY, day, took, Some(day <= date(3, 10))).await;
        if day != date(3, 1) {
            write_backup(&store, PROD, day, took, Some(true)).await; // written by the strays
        }
        write_backup(&store, STAGING, day, took, Some(true)).await;
        let applied = run_retention(&store, &policy, window(day) + Duration::minutes(10)).await;
        assert!(applied.refused.is_empty(), "{:?}", applied.refused);
    }
    assert_eq!(days(date(3, 1), date(4, 29)).len(), 60);
    // Wednesday 29 April. dev: 7 dailies; weeklies of the ISO weeks from 6 and 13 April fall
    // back to Saturday, whose backup passed, as Sunday's failed; 20 April's week is Sunday 26.
    let dailies = days(date(4, 23), date(4, 29));
    let mut app = backup_keys(
        "shop",
        "app",
        &[&[date(4, 11), date(4, 18)], &dailies[..]].concat(),
    );
    app.extend(strays.iter().cloned());
    app.sort();
    assert_eq!(keys(&store, "backups/shop/app/").await, app);
    // Nothing verified since 10 March: it stays as the newest verified, beside the failed rest.
    let legacy = [&[date(3, 10), date(4, 12), date(4, 19)], &dailies[..]].concat();
    assert_eq!(
        keys(&store, "backups/shop/legacy/").await,
        backup_keys("shop", "legacy", &legacy)
    );
    // staging: 14 dailies, the weekly of 6 April's week, March's monthly.
    let staging = [
        &[date(3, 31), date(4, 12)],
        &days(date(4, 16), date(4, 29))[..],
    ]
    .concat();
    assert_eq!(
        keys(&store, "backups/shop-staging/").await,
        backup_keys("shop-staging", "app", &staging)
    );
    // prod: 30 dailies (March's monthly, 31 March, is one of them).
    let prod = days(date(3, 31), date(4, 29));
    assert_eq!(prod.len(), 30);
    assert_eq!(
        keys(&store, "backups/shop-prod/").await,
        backup_keys("shop-prod", "app", &prod)
    );

    let catalog = list_backups(&store, Scope::All).await.unwrap();
    let last = plan(
        &catalog.backups,
        &policy,
        window(date(4, 29)) + Duration::minutes(10),
    );
    assert!(last.delete.is_empty(), "{:?}", last.delete);
    let reasons = |env: &str, db: &str, day| {
        let id = window(day).format("%Y%m%dt%H%M%Sz").to_string();
        let keep = last.keep.iter().find(|k| {
            (
                k.location.environment.as_str(),
                k.location.database.as_str(),
                k.location.backup_id.as_str(),
            ) == (env, db, &id)
        });
        keep.unwrap().reasons.clone()
    };
    assert_eq!(
        reasons("shop", "legacy", date(3, 10)),
        [KeepReason::NewestVerified]
    );
    assert_eq!(
        reasons("shop-staging", "app", date(3, 31)),
        [KeepReason::Monthly]
    );
    assert_eq!(reasons("shop", "app", date(4, 11)), [KeepReason::Weekly]);
    assert_eq!(
        reasons("shop", "app", date(4, 29)),
        [
            KeepReason::Floor,
            KeepReason::Daily,
            KeepReason::NewestVerified,
            KeepReason::Weekly
        ]
    );
    assert_eq!(
        catalog.foreign,
        ["backups/shop/app/2026/03/02/20260301t030000z.manifest.json"]
    );
    assert_eq!(catalog.unreadable.len(), 1);
    assert_eq!(
        catalog.unreadable[0].key,
        "backups/shop/app/2026/03/01/broken.manifest.json"
    );
    let mut unmanaged = strays.clone();
    unmanaged.retain(|k| !k.ends_with(".manifest.json"));
    unmanaged.sort();
    assert_eq!(catalog.unmanaged, unmanaged);
}

#[tokio::test]
async fn nothing_younger_than_the_floor_is_deleted() {
    let (_dir, store) = file_store().await;
    let mut policy = RetentionPolicy::default();
    (policy.daily_days.dev, policy.weeklies, policy.monthlies.dev) = (0, 0, 0);
    let now = window(date(4, 29));
    // Ages at `now`: 24 h, 47 h 59 min (kept); exactly 48 h, 96 h (deleted). None verified.
    let minutes = [
        (date(4, 28), 0),
        (date(4, 27), 1),
        (date(4, 26), 24 * 60),
        (date(4, 25), 0),
    ];
    for (day, took) in minutes {
        write_backup(&store, APP, day, Duration::minutes(took), Some(false)).await;
    }
    let applied = run_retention(&store, &policy, now).await;
    assert_eq!(applied.deleted.len(), 2);
    let expected = backup_keys("shop", "app", &[date(4, 27), date(4, 28)]);
    assert_eq!(keys(&store, "backups/").await, expected);
}

#[tokio::test]
async fn a_deletion_cut_short_after_the_dump_is_finished_by_the_next_run() {
    let (_dir, store) = file_store().await;
    let policy = RetentionPolicy::default();
    let now = window(date(4, 29)) + Duration::minutes(10);
    let old = write_backup(&store, APP, date(4, 1), Duration::minutes(5), Some(true)).await;
    write_backup(&store, APP, date(4, 29), Duration::minutes(5), Some(true)).await;
    let catalog = list_backups(&store, Scope::All).await.unwrap();
    let first = plan(&catalog.backups, &policy, now);
    assert_eq!(
        first.delete.iter().map(|d| &d.location).collect::<Vec<_>>(),
        [&old]
    );
    store.delete(&old.dump_key()).await.unwrap(); // the crash: only the dump went

    let catalog = list_backups(&store, Scope::All).await.unwrap();
    let half = catalog.backups.iter().find(|e| e.location == old).unwrap();
    assert_eq!(
        (half.dump_size, half.verified, half.is_verified()),
        (None, Some(true), false)
    );
    let applied = run_retention(&store, &policy, now).await;
    assert_eq!(applied.deleted, [old]);
    assert_eq!(
        keys(&store, "backups/").await,
        backup_keys("shop", "app", &[date(4, 29)])
    );
}

#[tokio::test]
async fn a_refused_deletion_keeps_that_backup_and_the_run_goes_on() {
    let (dir, store) = file_store().await;
    let now = window(date(4, 29)) + Duration::minutes(10);
    let held = write_backup(&store, APP, date(3, 30), Duration::minutes(5), Some(true)).await;
    let freed = write_backup(&store, APP, date(4, 1), Duration::minutes(5), Some(true)).await;
    write_backup(&store, APP, date(4, 29), Duration::minutes(5), Some(true)).await;
    // A directory cannot be cannot be bucket-locked; a directory where the dump is makes the
    // store's delete fail with a backend error, the way a locked object does on Cloud Storage.
    let dump_path = dir.path().join(held.dump_key());
    std::fs::remove_file(&dump_path).unwrap();
    std::fs::create_dir(&dump_path).unwrap();
    std::fs::write(dump_path.join("held"), b"x").unwrap();

    let applied = run_retention(&store, &RetentionPolicy::default(), now).await;
    assert_eq!(applied.deleted, [freed]);
    assert_eq!(applied.refused.len(), 1);
    assert_eq!(
        (&applied.refused[0].location, &applied.refused[0].key),
        (&held, &held.dump_key())
    );
    assert!(
        applied.refused[0].to_string().starts_with("kept: "),
        "{}",
        applied.refused[0]
    );
    let left = keys(&store, &held.manifest_key()).await;
    assert_eq!(
        left,
        [held.manifest_key()],
        "the manifest stays for the next run"
    );
}

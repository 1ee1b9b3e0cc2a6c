//! The dead-man's switch: a database is overdue unless a complete backup that passed
//! verification finished within the RPO, and a database never backed up is overdue too.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use backup_runner::catalog::{Catalog, CatalogEntry};
use backup_runner::dump::DumpReport;
use backup_runner::freshness::{overdue, rpo_from_env, Overdue};
use backup_runner::manifest::Manifest;
use backup_runner::store::BackupLocation;
use chrono::{DateTime, Duration, TimeZone, Utc};
use events::names::{DbIdent, EnvName};
use events::Tier;
use shared::env::Env;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 29, 12, 0, 0).unwrap()
}

fn names(env: &str, db: &str) -> (EnvName, DbIdent) {
    (env.parse().unwrap(), db.parse().unwrap())
}

/// A catalogued backup of `env/db` that finished `hours_ago`, with its verification outcome.
fn backup(env: &str, db: &str, hours_ago: i64, verified: Option<bool>) -> CatalogEntry {
    let finished = now() - Duration::hours(hours_ago);
    let (environment, database) = names(env, db);
    let location = BackupLocation::for_window(environment, database, finished);
    let report = DumpReport {
        sha256_hex: "0".repeat(64),
        crc32c: 0,
        size: 42,
        pg_dump_version: "pg_dump (PostgreSQL) 15.8".into(),
        server_version: 150_008,
        row_counts: Default::default(),
    };
    let manifest = Manifest::new(&location, Tier::Dev, "w", finished, finished, &report);
    CatalogEntry {
        location,
        manifest,
        dump_size: Some(42),
        verified,
    }
}

fn catalog(backups: Vec<CatalogEntry>) -> Catalog {
    Catalog {
        backups,
        ..Catalog::default()
    }
}

const RPO: Duration = Duration::hours(26);

#[test]
fn a_verified_backup_within_the_rpo_is_fresh_and_one_just_past_it_is_not() {
    let databases = [names("shop", "app")];
    let on_time = catalog(vec![backup("shop", "app", 26, Some(true))]);
    assert_eq!(overdue(&on_time, &databases, RPO, now()), []);
    let late = catalog(vec![backup("shop", "app", 27, Some(true))]);
    let found = overdue(&late, &databases, RPO, now());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].newest_verified, Some(now() - Duration::hours(27)));
}

#[test]
fn a_database_never_backed_up_is_overdue() {
    let other = catalog(vec![backup("shop-2", "app", 1, Some(true))]);
    let found = overdue(&other, &[names("shop", "app")], RPO, now());
    let (environment, database) = names("shop", "app");
    let expected = Overdue {
        environment,
        database,
        newest_verified: None,
        newest: None,
    };
    assert_eq!(found, [expected]);
}

#[test]
fn recent_backups_that_failed_or_await_verification_do_not_count() {
    let backups = vec![
        backup("shop", "app", 2, None),
        backup("shop", "app", 20, Some(false)),
        backup("shop", "app", 50, Some(true)),
    ];
    let found = overdue(&catalog(backups), &[names("shop", "app")], RPO, now());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].newest, Some(now() - Duration::hours(2)));
    assert_eq!(found[0].newest_verified, Some(now() - Duration::hours(50)));
}

#[test]
fn a_verified_backup_whose_dump_is_gone_does_not_count() {
    let mut gone = backup("shop", "app", 1, Some(true));
    gone.dump_size = None;
    let mut truncated = backup("shop", "app", 2, Some(true));
    truncated.dump_size = Some(41);
    let found = overdue(
        &catalog(vec![gone, truncated]),
        &[names("shop", "app")],
        RPO,
        now(),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].newest_verified, None);
}

#[test]
fn only_the_expected_databases_are_checked_in_the_order_given() {
    let backups = vec![
        backup("shop", "app", 1, Some(true)),
        backup("old", "gone", 900, Some(true)),
    ];
    let databases = [
        names("shop", "legacy"),
        names("shop", "app"),
        names("shop", "audit"),
    ];
    let found = overdue(&catalog(backups), &databases, RPO, now());
    let found: Vec<_> = found.iter().map(|o| o.database.as_str()).collect();
    assert_eq!(found, ["legacy", "audit"]);
}

#[test]
fn the_rpo_defaults_to_26_hours_and_a_bad_value_names_its_variable() {
    assert_eq!(rpo_from_env(&Env::default()).unwrap(), Duration::hours(26));
    let set = Env::from_pairs([("BACKUP_RPO_HOURS", "8")]);
    assert_eq!(rpo_from_env(&set).unwrap(), Duration::hours(8));
    for bad in ["0", "-3", "a day"] {
        let err = rpo_from_env(&Env::from_pairs([("BACKUP_RPO_HOURS", bad)])).unwrap_err();
        assert_eq!(err.name, "BACKUP_RPO_HOURS", "{bad}");
    }
}

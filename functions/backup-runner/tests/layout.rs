//! The object layout: keys from validated names only, hostile names refused before any key.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use backup_runner::store::{BackupId, BackupLocation, LayoutError};
use chrono::{NaiveDate, TimeZone, Utc};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 7).unwrap()
}

#[test]
fn keys_follow_the_layout_with_the_manifest_beside_the_dump() {
    let location = BackupLocation::parse("pr-42", "app_db", day(), "20260307t030000z").unwrap();
    assert_eq!(
        location.dump_key(),
        "backups/pr-42/app_db/2026/03/07/20260307t030000z.dump"
    );
    assert_eq!(
        location.manifest_key(),
        "backups/pr-42/app_db/2026/03/07/20260307t030000z.manifest.json"
    );
}

#[test]
fn a_window_maps_to_one_key_so_a_redelivery_hits_the_same_object() {
    let window = Utc.with_ymd_and_hms(2026, 3, 7, 3, 0, 0).unwrap();
    let env = "pr-42".parse().unwrap();
    let db = "app_db".parse().unwrap();
    let location = BackupLocation::for_window(env, db, window);
    assert_eq!(location.backup_id, BackupId::for_window(window));
    assert_eq!(
        location.dump_key(),
        "backups/pr-42/app_db/2026/03/07/20260307t030000z.dump"
    );
}

#[test]
fn hostile_names_are_refused_in_every_part() {
    let hostile = [
        "../x", "..", "a/b", "/etc", "a\0b", "App", "", "a b", "a\\b", ".hidden",
    ];
    for name in hostile {
        assert!(
            matches!(
                BackupLocation::parse(name, "app_db", day(), "b1"),
                Err(LayoutError::Name(_))
            ),
            "environment {name:?} accepted"
        );
        assert!(
            matches!(
                BackupLocation::parse("pr-42", name, day(), "b1"),
                Err(LayoutError::Name(_))
            ),
            "database {name:?} accepted"
        );
        assert!(
            matches!(
                BackupLocation::parse("pr-42", "app_db", day(), name),
                Err(LayoutError::BackupId(_))
            ),
            "backup id {name:?} accepted"
        );
    }
}

#[test]
fn a_backup_id_deserialises_through_the_same_check() {
    assert!(serde_json::from_str::<BackupId>(r#""../../etc""#).is_err());
    assert!(serde_json::from_str::<BackupId>(r#""b-1""#).is_ok());
    let too_long = format!("\"{}\"", "a".repeat(65));
    assert!(serde_json::from_str::<BackupId>(&too_long).is_err());
}

//! `groundskeeper backup list` and `backup retention` against a `file://` store holding
//! backups as backup-runner lays them out: exactly the environment's catalogued backups with
//! their verified state; retention's dry run is backup-runner's plan and deletes nothing.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "backup/fixtures.rs"]
mod fixtures;

use chrono::{Duration, Utc};
use events::Tier;
use fixtures::{cli, stderr, stdout, Objects};
use shared::backends::object_store::ObjectStore;

#[tokio::test]
async fn list_shows_exactly_the_environment_s_backups_with_their_verified_state() {
    let objects = Objects::new().await;
    let now = Utc::now();
    let day = Duration::days(1);
    let passed = objects
        .put(
            "shop",
            "env_shop",
            Tier::Dev,
            now - day * 3,
            1536,
            Some(true),
        )
        .await;
    let failed = objects
        .put(
            "shop",
            "env_shop",
            Tier::Dev,
            now - day * 2,
            100,
            Some(false),
        )
        .await;
    let pending = objects
        .put("shop", "env_shop", Tier::Dev, now - day, 2048, None)
        .await;
    let ledger = objects
        .put("shop", "ledger", Tier::Dev, now - day, 10, Some(true))
        .await;
    // Verified, but its dump is gone (a deletion cut short): not restorable.
    let gone = objects
        .put("shop", "env_shop", Tier::Dev, now - day * 4, 10, Some(true))
        .await;
    objects.store.delete(&gone).await.unwrap();
    // Another environment whose name starts the same, and a manifest copied under a key of
    // shop's that it does not describe: neither is shop's backup.
    let other = objects
        .put(
            "shop2",
            "env_shop2",
            Tier::Dev,
            now - day * 5,
            10,
            Some(true),
        )
        .await;
    let copied = other.replace("shop2/env_shop2", "shop/env_shop");
    let manifest = objects
        .store
        .get(&other.replace(".dump", ".manifest.json"))
        .await
        .unwrap()
        .unwrap();
    let copied_manifest = copied.replace(".dump", ".manifest.json");
    objects
        .store
        .put(&copied_manifest, manifest, "application/json")
        .await
        .unwrap();

    let url = objects.url();
    let out = cli(&["backup", "list", "shop", "--objects", &url], &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID "), "{table}");
    let expected = [
        (&gone, "no"),
        (&passed, "yes"),
        (&failed, "no"),
        (&pending, "pending"),
        (&ledger, "yes"),
    ];
    assert_eq!(lines.len(), 1 + expected.len(), "{table}");
    for (key, verified) in expected {
        let line = lines.iter().find(|l| l.ends_with(key.as_str())).unwrap();
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(columns[columns.len() - 2], verified, "{line}");
    }
    assert!(
        table.contains("1.5 KiB") && table.contains("2.0 KiB"),
        "{table}"
    );
    assert!(stderr(&out).contains(&copied_manifest), "{}", stderr(&out));

    // One database, as JSON, with the store from OBJECT_STORE_URL.
    let out = cli(
        &[
            "backup",
            "list",
            "shop",
            "--database",
            "ledger",
            "--output",
            "json",
        ],
        &[("OBJECT_STORE_URL", &url)],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["object"], ledger.as_str());
    assert_eq!(rows[0]["verified"], "yes");
    assert_eq!(rows[0]["size_bytes"], 10);
}

#[tokio::test]
async fn a_store_url_is_never_echoed_and_a_hostile_name_is_refused() {
    let bad = "s3://backup:hunter2-secret@store.example/x";
    let out = cli(&["backup", "list", "shop"], &[("OBJECT_STORE_URL", bad)]).await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("OBJECT_STORE_URL"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));

    let objects = Objects::new().await;
    let url = objects.url();
    let out = cli(&["backup", "list", "../etc", "--objects", &url], &[]).await;
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).is_empty());
}

#[tokio::test]
async fn retention_dry_run_prints_backup_runner_s_plan_and_deletes_nothing() {
    let objects = Objects::new().await;
    let now = Utc::now();
    let day = Duration::days(1);
    let put = |days: i64, verified| {
        objects.put(
            "pr-7",
            "env_pr_7",
            Tier::Ephemeral,
            now - day * days as i32,
            10,
            verified,
        )
    };
    // Ephemeral defaults: 3 daily days, 4 weeklies, no monthlies, a 48 h floor.
    let recent = put(1, None).await;
    let newest_verified = put(40, Some(true)).await;
    let older_verified = put(41, Some(true)).await;
    let old = put(50, None).await;
    let before = objects.snapshot().await;

    let url = objects.url();
    let out = cli(
        &[
            "backup",
            "retention",
            "--dry-run",
            "--output",
            "json",
            "--objects",
            &url,
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pick = |action: &str| -> Vec<String> {
        let mut keys: Vec<String> = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == action)
            .map(|r| r["object"].as_str().unwrap().to_owned())
            .collect();
        keys.sort();
        keys
    };
    let sorted = |mut keys: Vec<String>| {
        keys.sort();
        keys
    };
    assert_eq!(pick("delete"), sorted(vec![old.clone(), older_verified]));
    assert_eq!(pick("keep"), sorted(vec![recent, newest_verified.clone()]));
    let kept = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"] == newest_verified.as_str())
        .unwrap();
    assert_eq!(kept["reasons"], serde_json::json!(["newest verified"]));

    // The table says it is a dry run, and the store is as it was.
    let out = cli(
        &[
            "backup",
            "retention",
            "pr-7",
            "--dry-run",
            "--objects",
            &url,
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.starts_with("dry run: retention would delete 2 backup(s) and keep 2"),
        "{table}"
    );
    assert!(table.contains(&format!("delete {old}")), "{table}");
    assert_eq!(objects.snapshot().await, before);

    // Without --dry-run the CLI refuses: the service applies retention in its window.
    let out = cli(&["backup", "retention", "--objects", &url], &[]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("backup window"), "{}", stderr(&out));
    assert_eq!(objects.snapshot().await, before);
}

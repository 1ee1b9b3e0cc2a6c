//! The runner as the runtime runs it (dispatcher, ledger, dead letters) over real
//! PostgreSQL and a directory store: the window's fan-out, one backup per database and
//! window whatever the redeliveries, verification, skipped windows, the doctor probe, and
//! restores.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod stack;

use backup_runner::dump::Target;
use backup_runner::verify::table_checksums;
use chrono::{DurationRound, TimeDelta, Utc};
use serde_json::json;
use shared::Decision;
use sqlx::Connection;
use stack::{Stack, REQUESTED, RESTORE, WINDOW};

const COMPLETED: &str = "dev.groundskeeper.backup.completed.v1";
const VERIFIED: &str = "dev.groundskeeper.backup.verified.v1";
const SKIPPED: &str = "dev.groundskeeper.backup.skipped.v1";
const RESTORED: &str = "dev.groundskeeper.backup.restored.v1";

/// This minute's window: inside its start window.
fn window_now() -> String {
    let minute = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    minute.to_rfc3339()
}

fn target_of(stack: &Stack, database: &str) -> Target {
    Target::on_server(&stack.base.admin_url().into(), database).unwrap()
}

#[tokio::test]
async fn a_window_backs_up_each_ready_database_once_whatever_the_redeliveries() {
    let stack = Stack::start(&[]).await;
    stack.ready_environment("shop", "dev", 20).await;
    stack.ready_environment("blog", "staging", 5).await;
    let window = window_now();

    assert_eq!(
        stack
            .deliver("w-1", WINDOW, json!({ "window": window }))
            .await,
        Decision::Done
    );
    let backups = stack.drain_own_topic().await;
    assert!(backups.iter().all(|d| *d == Decision::Done), "{backups:?}");
    assert_eq!(stack.keys_ending(".dump").len(), 2);
    assert_eq!(stack.keys_ending(".manifest.json").len(), 2);
    assert_eq!(stack.keys_ending(".verification.json").len(), 2);
    assert_eq!(stack.emitted_of(COMPLETED).len(), 2);
    assert_eq!(stack.emitted_of(VERIFIED).len(), 2);
    let before = stack.objects();

    // Redelivered, or re-published as a new event: the ledger knows the window.
    for id in ["w-1", "w-2"] {
        let decision = stack.deliver(id, WINDOW, json!({ "window": window })).await;
        assert_eq!(decision, Decision::Duplicate, "{id}");
    }
    // A database's request of that window, published again by hand under a new id: the
    // ledger keys it on (environment, database, window).
    let request = json!({ "environment": "shop", "window": window, "reason": "again" });
    assert_eq!(
        stack.deliver("r-x", REQUESTED, request.clone()).await,
        Decision::Duplicate
    );
    // And with the ledger's record gone: the handler finds the manifest and dumps nothing;
    // it announces the backup again, under the backup's own event id.
    let raw = testbed::raw_event("r-y", REQUESTED, &request, None);
    assert_eq!(
        stack.dispatcher_with(None).dispatch_raw(raw).await,
        Decision::Done
    );
    stack.drain_own_topic().await;
    assert_eq!(stack.objects(), before, "nothing written, nothing replaced");
    assert_eq!(stack.emitted_of(COMPLETED).len(), 3);
    assert_eq!(
        stack.emitted_ids_of(COMPLETED).len(),
        2,
        "one event per backup"
    );
}

#[tokio::test]
async fn the_doctor_probe_is_acked_as_nothing_to_back_up() {
    let stack = Stack::start(&[]).await;
    let probe = events::platform::service("backup-runner").unwrap().probe;
    let data: serde_json::Value = serde_json::from_str(probe.data_json).unwrap();
    let decision = stack.deliver("probe", probe.event_type, data).await;
    let Decision::Ignored(reason) = decision else {
        panic!("expected an ack without action, got {decision:?}")
    };
    assert!(reason.contains("nothing to back up"), "{reason}");
    assert!(stack.objects().is_empty());
}

#[tokio::test]
async fn a_request_delivered_after_its_start_window_is_skipped_and_dumps_nothing() {
    let stack = Stack::start(&[("BACKUP_START_WINDOW_MINUTES", "30")]).await;
    stack.ready_environment("late", "dev", 3).await;
    let window = (Utc::now() - TimeDelta::hours(1)).to_rfc3339();
    let decision = stack
        .deliver(
            "r-1",
            REQUESTED,
            json!({ "environment": "late", "window": window }),
        )
        .await;
    assert!(matches!(decision, Decision::Ignored(_)), "{decision:?}");
    let skipped = stack.emitted_of(SKIPPED);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["environment"], "late");
    assert!(stack.objects().is_empty(), "{:?}", stack.objects().keys());
}

#[tokio::test]
async fn an_extra_database_that_is_not_configured_is_dead_lettered_untouched() {
    let stack = Stack::start(&[]).await;
    stack.ready_environment("shop", "dev", 3).await;
    let decision = stack
        .deliver(
            "r-1",
            REQUESTED,
            json!({ "environment": "shop", "database": "postgres" }),
        )
        .await;
    let Decision::Rejected { reason, .. } = decision else {
        panic!("expected a dead letter, got {decision:?}")
    };
    assert!(reason.contains("EXTRA_DATABASES"), "{reason}");
    assert!(stack.objects().is_empty());
}

#[tokio::test]
async fn a_restore_recreates_the_exact_data_in_a_new_database_once() {
    let stack = Stack::start(&[]).await;
    let env = stack.ready_environment("shop", "staging", 40).await;
    let window = window_now();
    let request = json!({ "environment": "shop", "window": window });
    assert_eq!(
        stack.deliver("r-1", REQUESTED, request).await,
        Decision::Done
    );
    stack.drain_own_topic().await;
    assert_eq!(stack.emitted_of(VERIFIED).len(), 1);

    let restore = json!({ "environment": "shop", "into": "shop_copy" });
    assert_eq!(
        stack.deliver("x-1", RESTORE, restore.clone()).await,
        Decision::Done
    );
    let source = table_checksums(&target_of(&stack, env.database().as_str()))
        .await
        .unwrap();
    let copy = table_checksums(&target_of(&stack, "shop_copy"))
        .await
        .unwrap();
    assert_eq!(copy, source, "every table, every row");
    assert_eq!(source.len(), 2);
    let restored = stack.emitted_of(RESTORED);
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0]["tables"], 2);

    // Asked again: the ledger knows it; without the ledger's record, the database's mark.
    assert_eq!(
        stack.deliver("x-2", RESTORE, restore.clone()).await,
        Decision::Duplicate
    );
    let raw = testbed::raw_event("x-3", RESTORE, &restore, None);
    let again = stack.dispatcher_with(None).dispatch_raw(raw).await;
    assert!(
        matches!(&again, Decision::Ignored(r) if r.contains("already")),
        "{again:?}"
    );
    let copy = table_checksums(&target_of(&stack, "shop_copy"))
        .await
        .unwrap();
    assert_eq!(copy, source);
}

#[tokio::test]
async fn a_restore_never_writes_into_a_database_it_did_not_create() {
    let stack = Stack::start(&[]).await;
    let env = stack.ready_environment("shop", "dev", 4).await;
    stack
        .deliver(
            "r-1",
            REQUESTED,
            json!({ "environment": "shop", "window": window_now() }),
        )
        .await;
    stack.drain_own_topic().await;
    // Someone else's database, and an environment's database named without its environment.
    let someone_elses = stack.base.postgres.fresh_database().await;
    let name = someone_elses.rsplit('/').next().unwrap().to_owned();
    let before = table_checksums(&target_of(&stack, &name)).await.unwrap();
    for (id, into) in [("x-1", name.as_str()), ("x-2", env.database().as_str())] {
        let decision = stack
            .deliver(id, RESTORE, json!({ "environment": "shop", "into": into }))
            .await;
        assert!(
            matches!(decision, Decision::Rejected { .. }),
            "{into}: {decision:?}"
        );
    }
    assert_eq!(
        table_checksums(&target_of(&stack, &name)).await.unwrap(),
        before
    );
}

#[tokio::test]
async fn a_restore_without_a_verified_backup_is_dead_lettered_with_the_reason() {
    let stack = Stack::start(&[]).await;
    stack.ready_environment("shop", "dev", 4).await;
    let decision = stack
        .deliver(
            "x-1",
            RESTORE,
            json!({ "environment": "shop", "into": "shop_copy" }),
        )
        .await;
    let Decision::Rejected { reason, .. } = decision else {
        panic!("expected a dead letter, got {decision:?}")
    };
    assert!(reason.contains("no verified backup"), "{reason}");
}

const OVERDUE: &str = "dev.groundskeeper.backup.overdue.v1";
const FAILED: &str = "dev.groundskeeper.backup.failed.v1";

#[tokio::test]
async fn silence_is_overdue_and_a_verified_backup_ends_it() {
    let stack = Stack::start(&[]).await;
    stack.ready_environment("shop", "dev", 5).await;
    stack.ready_environment("blog", "dev", 5).await;

    // The first window: nothing verified yet anywhere.
    let first = window_now();
    assert_eq!(
        stack
            .deliver("w-1", WINDOW, json!({ "window": first }))
            .await,
        Decision::Done
    );
    let overdue = stack.emitted_of(OVERDUE);
    let mut late: Vec<&str> = overdue
        .iter()
        .map(|o| o["environment"].as_str().unwrap())
        .collect();
    late.sort();
    assert_eq!(late, ["blog", "shop"]);
    assert!(overdue
        .iter()
        .all(|o| o["newest_verified"].is_null() && o["rpo_hours"] == 26));
    stack.drain_own_topic().await;
    assert_eq!(stack.emitted_of(VERIFIED).len(), 2);

    // The next window finds both verified within the RPO: no new alarm.
    let next = (Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap() + TimeDelta::minutes(1))
        .to_rfc3339();
    assert_eq!(
        stack
            .deliver("w-2", WINDOW, json!({ "window": next }))
            .await,
        Decision::Done
    );
    assert_eq!(stack.emitted_of(OVERDUE).len(), 2, "no new overdue event");
}

#[tokio::test]
async fn a_corrupted_dump_fails_verification_and_is_recorded_and_announced() {
    let stack = Stack::start(&[]).await;
    stack.ready_environment("shop", "dev", 50).await;
    let request = json!({ "environment": "shop", "window": window_now() });
    assert_eq!(
        stack.deliver("r-1", REQUESTED, request).await,
        Decision::Done
    );
    // Before the verification is delivered, one byte of the stored dump changes.
    let dump = stack.keys_ending(".dump").pop().unwrap();
    let path = stack.base.objects_dir().join(&dump);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();

    let decisions = stack.drain_own_topic().await;
    assert_eq!(
        decisions,
        vec![Decision::Done],
        "a finding, acked, not a dead letter"
    );
    assert!(stack.emitted_of(VERIFIED).is_empty());
    let failed = stack.emitted_of(FAILED);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["step"], "verify");
    let record_key = stack.keys_ending(".verification.json").pop().unwrap();
    let record: serde_json::Value = serde_json::from_slice(&stack.objects()[&record_key]).unwrap();
    assert_eq!(record["passed"], false, "{record}");
}

/// An environment being provisioned: its empty database owned by its owner role, as
/// env-provisioner leaves it when it asks for `from_backup`.
#[tokio::test]
async fn from_backup_fills_a_new_environment_s_empty_database_as_its_owner() {
    let stack = Stack::start(&[]).await;
    let source = stack.ready_environment("staging-x", "staging", 12).await;
    stack
        .deliver(
            "r-1",
            REQUESTED,
            json!({ "environment": "staging-x", "window": window_now() }),
        )
        .await;
    stack.drain_own_topic().await;
    stack
        .provisioning_environment("preview-1", "ephemeral", "provisioning")
        .await;
    stack
        .provisioning_environment("gone-1", "ephemeral", "failed")
        .await;
    stack
        .provisioning_environment("prod-1", "prod", "provisioning")
        .await;

    for (id, into_env, expected_ok) in [
        ("x-1", "gone-1", false),
        ("x-2", "prod-1", false),
        ("x-3", "preview-1", true),
    ] {
        let env: events::names::EnvName = into_env.parse().unwrap();
        let request = json!({
            "environment": "staging-x", "into": env.database(), "into_environment": into_env,
        });
        let decision = stack.deliver(id, RESTORE, request).await;
        if expected_ok {
            assert_eq!(decision, Decision::Done, "{into_env}");
        } else {
            assert!(
                matches!(decision, Decision::Rejected { .. }),
                "{into_env}: {decision:?}"
            );
        }
    }
    let preview: events::names::EnvName = "preview-1".parse().unwrap();
    let restored = target_of(&stack, preview.database().as_str());
    let expected = table_checksums(&target_of(&stack, source.database().as_str()))
        .await
        .unwrap();
    assert_eq!(table_checksums(&restored).await.unwrap(), expected);
    let mut conn = sqlx::PgConnection::connect(&stack.database_url(preview.database().as_str()))
        .await
        .unwrap();
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tableowner::text FROM pg_tables WHERE schemaname IN ('public', 'ledger')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        owners,
        [preview.owner_role().as_str().to_owned()],
        "the environment's own"
    );
}

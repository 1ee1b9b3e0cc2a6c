//! A crash at each of backup-runner's crash points (`fault::POINTS`), then Pub/Sub's
//! redelivery: a backup, its verification and a restore into a new environment end as if
//! nothing had happened — one dump, one manifest, one verification record, the copy's exact
//! data, and each of `backup.completed`, `backup.verified` and `backup.restored` once.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod stack;

use std::collections::BTreeMap;

use backup_runner::dump::Target;
use backup_runner::verify::table_checksums;
use chrono::{DurationRound, TimeDelta, Utc};
use events::names::EnvName;
use serde_json::json;
use shared::Decision;
use stack::{Stack, REQUESTED, RESTORE};

const COMPLETED: &str = "dev.groundskeeper.backup.completed.v1";
const VERIFIED: &str = "dev.groundskeeper.backup.verified.v1";
const RESTORED: &str = "dev.groundskeeper.backup.restored.v1";

async fn checksums_of(stack: &Stack, env: &EnvName) -> BTreeMap<String, String> {
    let target = Target::on_server(&stack.base.admin_url().into(), env.database().as_str());
    table_checksums(&target.unwrap()).await.unwrap()
}

/// Sequential in one test: points are armed per subject, and every stack has the same.
#[tokio::test]
async fn a_crash_at_every_point_is_finished_by_the_redelivery_once() {
    for point in backup_runner::fault::POINTS {
        let stack = Stack::start(&[]).await;
        let source = stack.ready_environment("shop", "staging", 20).await;
        let copy: EnvName = "preview-1".parse().unwrap();
        stack
            .provisioning_environment(copy.as_str(), "ephemeral", "provisioning")
            .await;
        let subject = if point.starts_with("restore") {
            copy.database().as_str().to_owned()
        } else {
            source.as_str().to_owned()
        };
        backup_runner::fault::arm(&subject, point);

        let window = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
        let backup = json!({ "environment": "shop", "window": window });
        let (backed_up, mut retries) = stack.deliver_until_settled("b-1", REQUESTED, backup).await;
        assert_eq!(backed_up, Decision::Done, "{point}");
        let (verified, verify_retries) = stack.drain_own_topic_redelivering().await;
        retries += verify_retries;
        assert!(
            verified
                .iter()
                .all(|d| matches!(d, Decision::Done | Decision::Ignored(_))),
            "{point}: {verified:?}"
        );
        let restore = json!({
            "environment": "shop", "into": copy.database(), "into_environment": copy.as_str(),
        });
        let (restored, restore_retries) =
            stack.deliver_until_settled("x-1", RESTORE, restore).await;
        retries += restore_retries;
        assert!(
            matches!(restored, Decision::Done | Decision::Ignored(_)),
            "{point}: {restored:?}"
        );

        assert_eq!(retries, 1, "{point}: the crash cost one delivery");
        for suffix in [".dump", ".manifest.json", ".verification.json"] {
            assert_eq!(stack.keys_ending(suffix).len(), 1, "{point}: one {suffix}");
        }
        for ty in [COMPLETED, VERIFIED, RESTORED] {
            assert_eq!(stack.emitted_of(ty).len(), 1, "{point}: one {ty}");
        }
        assert_eq!(
            checksums_of(&stack, &copy).await,
            checksums_of(&stack, &source).await,
            "{point}: the copy holds exactly the source's rows"
        );
    }
}

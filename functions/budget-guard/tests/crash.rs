//! A crash at each of budget-guard's crash points (`fault::POINTS`), then Pub/Sub's
//! redelivery: the level and the restore each end as if nothing had happened — every
//! resource written once per stage, one `downscale.applied`, one `downscale.resumed` putting
//! everything back exactly, nothing reported as changed by someone else.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod stack;

use google_cloud_sql_v1::model::settings::SqlActivationPolicy;
use shared::Decision;
use stack::{Stack, APPLIED, DEV_BUDGET, RESUMED};

/// Delivers the same notification (same id: a redelivery) until it is done; returns how
/// many deliveries were told to retry.
async fn until_done(stack: &Stack, id: &str, period: &str, cost: f64) -> usize {
    for retries in 0..5 {
        match stack.notify(id, period, cost).await {
            Decision::Retry { .. } => continue,
            Decision::Done => return retries,
            other => panic!("{id}: {other:?}"),
        }
    }
    panic!("{id}: still retried after 5 deliveries");
}

/// Sequential in one test: the points are armed per budget, and every stack has the same.
#[tokio::test]
async fn a_crash_at_every_point_resumes_on_redelivery_writing_each_resource_once() {
    for point in budget_guard::fault::POINTS {
        let stack = Stack::start(&[]).await;
        let db = stack.dev_fleet().await;
        budget_guard::fault::arm(DEV_BUDGET, point);
        let retried = until_done(&stack, "cap", "2026-09-01", 85.0).await
            + until_done(&stack, "next-period", "2026-10-01", 5.0).await;
        assert_eq!(retried, 1, "{point}: the crash cost one delivery");
        let applied = stack.emitted_of(APPLIED);
        assert_eq!(applied.len(), 1, "{point}: one downscale.applied");
        let capped = applied[0]["targets"].as_array().unwrap();
        assert_eq!(capped.len(), 3, "{point}: env-a, env-b, the database");
        let resumed = stack.emitted_of(RESUMED);
        assert_eq!(resumed.len(), 1, "{point}: one downscale.resumed");
        for target in resumed[0]["targets"].as_array().unwrap() {
            assert_eq!(target["action"], "resumed", "{point}: {target}");
        }
        assert_eq!(
            (stack.run.updates_of("env-a"), stack.run.updates_of("env-b")),
            (2, 2),
            "{point}: each service capped once and resumed once"
        );
        assert_eq!(stack.run.scaling("env-a"), (2, 10), "{point}");
        assert_eq!(stack.run.scaling("env-b"), (0, 0), "{point}");
        assert_eq!(stack.sql.policy("dev-db"), SqlActivationPolicy::Always);
        assert_eq!(stack.connection_limit(&db).await, -1, "{point}");
        assert!(stack.dead_letters().is_empty(), "{point}");
    }
}

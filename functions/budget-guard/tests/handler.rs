//! budget-guard end to end through the runtime's dispatcher: a whole two-period sequence, an
//! adversarial mix of resources, forged notifications, 50 concurrent duplicates, an outage
//! half-way through a level, a person's early resume, a resource changed while suspended and
//! the dry run. Cloud Run and Cloud SQL are the stateful fakes of `stack/fleet.rs`; the
//! environments' databases are real.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod stack;

use futures::future::join_all;
use google_cloud_sql_v1::model::settings::SqlActivationPolicy;
use serde_json::json;
use shared::Decision;
use stack::fleet::labels;
use stack::{
    notification, with_attributes, Stack, ACCOUNT, APPLIED, DEV_BUDGET, RESUME, RESUMED, THRESHOLD,
};

// Two past periods (a period starting ahead of now is refused).
const P1: &str = "2026-09-01";
const P2: &str = "2026-10-01";

fn is_done(d: &Decision) -> bool {
    matches!(
        d,
        Decision::Done | Decision::Ignored(_) | Decision::Duplicate
    )
}

#[tokio::test]
async fn thirty_notifications_over_two_periods_give_one_notify_cap_stop_and_resume_and_restore_exactly(
) {
    let stack = Stack::start(&[]).await;
    let db = stack.dev_fleet().await;
    // (delivery id, period, cost of 100): repeats, redeliveries (same id), late and lower
    // figures, a jump, then the next period with late notifications of the first.
    let sequence = [
        ("n1", P1, 10.0),
        ("n2", P1, 20.0),
        ("n2", P1, 20.0),
        ("n3", P1, 51.0),
        ("n4", P1, 55.0),
        ("n3", P1, 51.0),
        ("n5", P1, 62.0),
        ("n6", P1, 49.0),
        ("n7", P1, 81.0),
        ("n7", P1, 81.0),
        ("n8", P1, 85.0),
        ("n9", P1, 79.0),
        ("n10", P1, 90.0),
        ("n11", P1, 100.5),
        ("n11", P1, 100.5),
        ("n12", P1, 97.0),
        ("n13", P1, 130.0),
        ("n8", P1, 85.0),
        ("m1", P2, 2.0),
        ("n14", P1, 140.0),
        ("m2", P2, 3.0),
        ("m2", P2, 3.0),
        ("n15", P1, 82.0),
        ("m3", P2, 7.0),
        ("m4", P2, 12.0),
        ("n16", P1, 55.0),
        ("m5", P2, 20.0),
        ("m6", P2, 31.0),
        ("m7", P2, 44.0),
        ("m8", P2, 49.9),
    ];
    assert_eq!(sequence.len(), 30);
    for (id, period, cost) in sequence {
        let decision = stack.notify(id, period, cost).await;
        assert!(is_done(&decision), "{id} {period} {cost}: {decision:?}");
    }
    assert_eq!(stack.emitted_of(THRESHOLD).len(), 1, "one notify");
    let applied = stack.emitted_of(APPLIED);
    let levels: Vec<_> = applied
        .iter()
        .map(|e| e["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["cap", "stop"], "one cap, one stop");
    let resumed = stack.emitted_of(RESUMED);
    assert_eq!(resumed.len(), 1, "one resume");
    assert_eq!(resumed[0]["reason"], "new-period");
    assert_eq!(resumed[0]["targets"].as_array().unwrap().len(), 4);
    // Every resource is back at exactly its prior settings.
    assert_eq!(stack.run.scaling("env-a"), (2, 10));
    assert_eq!(stack.run.scaling("env-b"), (0, 0));
    assert_eq!(stack.sql.policy("dev-db"), SqlActivationPolicy::Always);
    assert_eq!(stack.connection_limit(&db).await, -1);
    // Each service written exactly three times (cap, the stop's delta, resume); the
    // instance twice (stop, resume): no write repeated by a duplicate.
    assert_eq!(
        (stack.run.updates_of("env-a"), stack.run.updates_of("env-b")),
        (3, 3)
    );
    assert_eq!(stack.sql.patch_count(), 2);
    // The cap reported the database suspended and the services capped at 2.
    let cap = &applied[0]["targets"];
    let env_a = cap
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().ends_with("env-a"))
        .unwrap();
    assert_eq!(env_a["before"]["scaling"]["max_instance_count"], 10);
    assert_eq!(env_a["after"]["scaling"]["max_instance_count"], 2);
    assert_eq!(env_a["after"]["scaling"]["min_instance_count"], 0);
    assert!(stack.dead_letters().is_empty());
}

#[tokio::test]
async fn a_database_refuses_new_logins_at_cap_and_accepts_them_in_the_next_period() {
    let stack = Stack::start(&[]).await;
    let db = stack.ready_environment("pr-2", "dev").await;
    assert!(is_done(&stack.notify("a", P1, 85.0).await));
    assert_eq!(stack.connection_limit(&db).await, 0);
    assert!(is_done(&stack.notify("b", P2, 1.0).await));
    assert_eq!(stack.connection_limit(&db).await, -1);
}

#[tokio::test]
async fn an_adversarial_mix_of_resources_sees_zero_changes() {
    let stack = Stack::start(&[]).await;
    let managed = |tier: &str| labels(&[("managed-by", "groundskeeper"), ("tier", tier)]);
    stack.run.add("prod-api", 3, 20, managed("prod"));
    stack.run.add(
        "PROD-shouting",
        3,
        20,
        labels(&[("managed-by", "groundskeeper"), ("tier", "PROD")]),
    );
    stack.run.add("unlabelled", 1, 5, labels(&[]));
    stack
        .run
        .add("someone-elses", 1, 5, labels(&[("tier", "dev")]));
    stack.run.add(
        "excluded",
        1,
        5,
        labels(&[
            ("managed-by", "groundskeeper"),
            ("tier", "dev"),
            ("budget-guard", "exclude"),
        ]),
    );
    stack.run.add("staging-api", 1, 5, managed("staging"));
    stack.sql.add(
        "dev-primary-replica",
        SqlActivationPolicy::Always,
        managed("dev"),
        Some("elsewhere"),
    );
    stack.sql.add(
        "prod-db",
        SqlActivationPolicy::Always,
        managed("prod"),
        None,
    );
    stack.sql.add(
        "staging-db",
        SqlActivationPolicy::Always,
        managed("staging"),
        None,
    );
    let staging_db = stack.ready_environment("qa-1", "staging").await;
    let prod_db = stack.ready_environment("live-1", "prod").await;
    assert!(is_done(&stack.notify("over", P1, 150.0).await));
    assert_eq!(stack.run.update_count(), 0, "no Cloud Run write");
    assert_eq!(stack.sql.patch_count(), 0, "no Cloud SQL write");
    assert_eq!(stack.connection_limit(&staging_db).await, -1);
    assert_eq!(stack.connection_limit(&prod_db).await, -1);
    let applied = stack.emitted_of(APPLIED);
    let stop = applied.last().unwrap();
    assert_eq!(stop["targets"], json!([]));
    let skipped: Vec<(String, String)> = stop["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                s["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let reason = |name: &str| {
        skipped
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert!(reason("prod-api").contains("prod"), "{skipped:?}");
    assert!(reason("PROD-shouting").contains("prod"), "{skipped:?}");
    assert!(
        reason("excluded").contains("budget-guard=exclude"),
        "{skipped:?}"
    );
    assert!(
        reason("dev-primary-replica").contains("replica"),
        "{skipped:?}"
    );
}

#[tokio::test]
async fn forged_notifications_change_nothing_and_are_dead_lettered_with_the_reason() {
    let stack = Stack::start(&[]).await;
    let db = stack.dev_fleet().await;
    for (id, account, budget) in [
        ("forged-budget", ACCOUNT, "not-a-budget"),
        ("forged-account", "999999-999999-999999", DEV_BUDGET),
    ] {
        let decision = stack
            .deliver(notification(id, account, budget, P1, 500.0, 1.0))
            .await;
        let Decision::Rejected { reason, .. } = decision else {
            panic!("{id}: {decision:?}");
        };
        assert!(
            reason.contains("not a configured budget") && reason.contains(budget),
            "{reason}"
        );
    }
    assert_eq!(stack.dead_letters().len(), 2);
    assert_eq!((stack.run.update_count(), stack.sql.patch_count()), (0, 0));
    assert_eq!(stack.connection_limit(&db).await, -1);
    assert!(stack.emitted_of(APPLIED).is_empty() && stack.emitted_of(THRESHOLD).is_empty());
}

#[tokio::test]
async fn googles_test_message_and_the_doctor_probe_are_acked_without_action() {
    let stack = Stack::start(&[]).await;
    stack.dev_fleet().await;
    let google = json!({"budgetDisplayName": "name-of-budget", "alertThresholdExceeded": 1.0,
        "costAmount": 100.01, "costIntervalStart": "2019-01-01T00:00:00Z", "budgetAmount": 100.00,
        "budgetAmountType": "SPECIFIED_AMOUNT", "currencyCode": "USD"});
    let probe = events::platform::service("budget-guard").unwrap().probe;
    let probe_data: serde_json::Value = serde_json::from_str(probe.data_json).unwrap();
    assert!(probe.attributes.is_empty());
    for (id, data) in [("google-test", google), ("doctor-probe", probe_data)] {
        let decision = stack.deliver(with_attributes(id, data, &[])).await;
        assert!(
            matches!(decision, Decision::Ignored(_)),
            "{id}: {decision:?}"
        );
    }
    assert!(
        stack.published.messages().is_empty(),
        "no event, no dead letter"
    );
    assert_eq!((stack.run.update_count(), stack.sql.patch_count()), (0, 0));
}

#[tokio::test]
async fn bad_amounts_are_dead_lettered_naming_the_field() {
    let stack = Stack::start(&[]).await;
    for (id, amount, field) in [
        ("zero", 0.0, "budgetAmount"),
        ("negative", -5.0, "budgetAmount"),
    ] {
        let decision = stack
            .deliver(notification(id, ACCOUNT, DEV_BUDGET, P1, 10.0, amount))
            .await;
        let Decision::Rejected { reason, .. } = decision else {
            panic!("{id}: {decision:?}")
        };
        assert!(reason.starts_with(field), "{reason}");
    }
}

#[tokio::test]
async fn fifty_concurrent_duplicates_of_a_crossing_apply_it_once() {
    let stack = Stack::start(&[]).await;
    let db = stack.dev_fleet().await;
    // Five redeliveries of one message and 45 re-publications (new ids), all at once.
    let ids: Vec<String> = (0..50)
        .map(|i| {
            if i < 5 {
                "same".to_owned()
            } else {
                format!("copy-{i}")
            }
        })
        .collect();
    let mut pending: Vec<String> = ids.clone();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(rounds < 20, "duplicates kept retrying");
        let decisions = join_all(pending.iter().map(|id| stack.notify(id, P1, 85.0))).await;
        pending = pending
            .into_iter()
            .zip(decisions)
            .filter(|(_, d)| matches!(d, Decision::Retry { .. }))
            .map(|(id, _)| id)
            .collect();
    }
    assert_eq!(stack.emitted_of(APPLIED).len(), 1);
    assert_eq!(stack.emitted_of(THRESHOLD).len(), 1);
    assert_eq!(
        (stack.run.updates_of("env-a"), stack.run.updates_of("env-b")),
        (1, 1)
    );
    assert_eq!(stack.connection_limit(&db).await, 0);
}

#[tokio::test]
async fn an_outage_half_way_through_a_level_resumes_on_redelivery_without_a_second_write() {
    let stack = Stack::start(&[]).await;
    stack.dev_fleet().await;
    let env_b = format!("{}/services/env-b", stack::fleet::LOCATION);
    stack.run.failing.lock().unwrap().insert(env_b, 1);
    let first = stack.notify("crossing", P1, 85.0).await;
    assert!(matches!(first, Decision::Retry { .. }), "{first:?}");
    assert_eq!(
        stack.run.scaling("env-a"),
        (0, 2),
        "env-a capped before the outage"
    );
    assert!(
        stack.emitted_of(APPLIED).is_empty(),
        "not reported until the level is done"
    );
    let again = stack.notify("crossing", P1, 85.0).await;
    assert!(matches!(again, Decision::Done), "{again:?}");
    assert_eq!(
        (stack.run.updates_of("env-a"), stack.run.updates_of("env-b")),
        (1, 1)
    );
    let applied = stack.emitted_of(APPLIED);
    assert_eq!(applied.len(), 1);
    assert_eq!(
        applied[0]["targets"].as_array().unwrap().len(),
        3,
        "env-a, env-b, the database"
    );
}

#[tokio::test]
async fn a_person_resumes_early_and_nothing_more_is_applied_that_period() {
    let stack = Stack::start(&[]).await;
    let db = stack.dev_fleet().await;
    assert!(is_done(&stack.notify("cap", P1, 85.0).await));
    let resume = testbed::raw_event(
        "r1",
        RESUME,
        &json!({"billing_account": ACCOUNT, "budget_id": DEV_BUDGET, "requested_by": "alice"}),
        None,
    );
    assert!(matches!(stack.deliver(resume).await, Decision::Done));
    assert_eq!(stack.run.scaling("env-a"), (2, 10));
    assert_eq!(stack.connection_limit(&db).await, -1);
    let resumed = stack.emitted_of(RESUMED);
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0]["reason"], "requested");
    let later = stack.notify("stop", P1, 120.0).await;
    assert!(
        matches!(later, Decision::Ignored(ref why) if why.contains("resumed by hand")),
        "{later:?}"
    );
    assert_eq!(stack.run.scaling("env-a"), (2, 10));
    assert_eq!(stack.sql.policy("dev-db"), SqlActivationPolicy::Always);
    let forged = testbed::raw_event(
        "r2",
        RESUME,
        &json!({"billing_account": ACCOUNT, "budget_id": "other"}),
        None,
    );
    assert!(matches!(
        stack.deliver(forged).await,
        Decision::Rejected { .. }
    ));
}

#[tokio::test]
async fn a_resource_changed_while_suspended_is_left_as_found_and_reported() {
    let stack = Stack::start(&[]).await;
    stack.dev_fleet().await;
    assert!(is_done(&stack.notify("cap", P1, 85.0).await));
    stack.run.set_scaling("env-a", 1, 5);
    assert!(is_done(&stack.notify("next", P2, 1.0).await));
    assert_eq!(stack.run.scaling("env-a"), (1, 5), "not overwritten");
    assert_eq!(stack.run.scaling("env-b"), (0, 0), "the others resumed");
    let resumed = &stack.emitted_of(RESUMED)[0]["targets"];
    let env_a = resumed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().ends_with("env-a"))
        .unwrap();
    assert_eq!(env_a["action"], "left-as-found");
    assert_eq!(env_a["after"]["scaling"]["max_instance_count"], 5);
}

#[tokio::test]
async fn a_dry_run_plans_without_changing_anything() {
    let stack = Stack::start(&[("DRY_RUN", "true")]).await;
    let db = stack.dev_fleet().await;
    let decision = stack.notify("over", P1, 120.0).await;
    assert!(
        matches!(decision, Decision::Ignored(ref why) if why.contains("dry run") && why.contains("would change 4")),
        "{decision:?}"
    );
    assert_eq!((stack.run.update_count(), stack.sql.patch_count()), (0, 0));
    assert_eq!(stack.connection_limit(&db).await, -1);
    assert!(stack.published.messages().is_empty());
}

/// A notification whose period starts in the future is forged or broken: were it recorded as
/// the budget's latest period, every real notification after it would be "late" and the
/// guard would do nothing until that date. It is dead-lettered and the next real crossing
/// still acts.
#[tokio::test]
async fn a_period_starting_in_the_future_is_dead_lettered_and_does_not_silence_the_budget() {
    let stack = Stack::start(&[]).await;
    stack.dev_fleet().await;
    let decision = stack.notify("future", "2999-01-01", 1.0).await;
    let Decision::Rejected { reason, .. } = decision else {
        panic!("{decision:?}");
    };
    assert!(
        reason.contains("costIntervalStart") && reason.contains("future"),
        "{reason}"
    );
    assert!(is_done(&stack.notify("real", P1, 85.0).await));
    assert_eq!(
        stack.run.scaling("env-a"),
        (0, 2),
        "the real crossing capped"
    );
}

//! `rotation.due`: due secrets are rotated, overdue ones reported (the dead-man's switch),
//! manual ones announced, and every policy recorded in `control.rotation_policies`.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use support::*;

async fn age(stack: &Stack, secret: &str, days: i32) {
    sqlx::query("UPDATE control.secret_versions SET created_at = now() - make_interval(days => $2) WHERE secret = $1")
        .bind(secret)
        .bind(days)
        .execute(&stack.control)
        .await
        .unwrap();
}

fn secrets_in(events: &[serde_json::Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e["secret"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_sweep_rotates_due_secrets_reports_overdue_ones_and_reminds_of_manual_ones() {
    let stack = Stack::start(FAST).await;
    let due = stack.provision(&env_name("due")).await;
    let overdue = stack.provision(&env_name("late")).await;
    let fresh = stack.provision(&env_name("fresh")).await;
    age(&stack, due.as_str(), 40).await;
    age(&stack, overdue.as_str(), 70).await;
    let api = |n: &str| format!("{}-api-key", env_name(n));
    let (manual, manual_late, weekly, foreign) = (api("m"), api("ml"), api("mw"), api("f"));
    let manual_labels = [("managed-by", "groundskeeper"), ("rotation", "manual")];
    stack.create_secret(&manual, &manual_labels, "key-1").await;
    stack
        .create_secret(&manual_late, &manual_labels, "key-2")
        .await;
    stack
        .create_secret(
            &weekly,
            &[
                ("managed-by", "groundskeeper"),
                ("rotation", "manual"),
                ("rotation-period-days", "7"),
            ],
            "key-3",
        )
        .await;
    stack
        .create_secret(&foreign, &[("team", "payments")], "key-4")
        .await;
    age(&stack, &manual, 100).await;
    age(&stack, &manual_late, 200).await;
    age(&stack, &weekly, 10).await;
    age(&stack, &foreign, 400).await;

    stack
        .deliver("sweep-1", DUE, serde_json::json!({}))
        .await
        .unwrap();

    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        secrets_in(&stack.emitted_of(ROTATED)),
        set(&[due.as_str(), overdue.as_str()])
    );
    assert_eq!(
        secrets_in(&stack.emitted_of(OVERDUE)),
        set(&[overdue.as_str(), &manual_late])
    );
    assert_eq!(
        secrets_in(&stack.emitted_of(MANUAL)),
        set(&[&manual, &manual_late, &weekly])
    );
    assert!(stack.emitted_of(FAILED).is_empty());

    let late = &stack
        .emitted_of(OVERDUE)
        .into_iter()
        .find(|e| e["secret"] == overdue.as_str())
        .unwrap();
    assert_eq!(late["policy_days"], 30);
    let last: DateTime<Utc> = serde_json::from_value(late["last_rotated"].clone()).unwrap();
    let due_at: DateTime<Utc> = serde_json::from_value(late["due_at"].clone()).unwrap();
    assert_eq!(due_at - last, chrono::TimeDelta::days(30));
    assert!(
        (Utc::now() - last - chrono::TimeDelta::days(70))
            .num_seconds()
            .abs()
            < 60
    );
    login(&stack.current(&overdue).await).await.unwrap();
    assert_eq!(
        stack.aliases(&fresh).await.get("current"),
        Some(&1),
        "not due"
    );

    let rows: Vec<(String, String, i32, bool)> = sqlx::query_as(
        "SELECT secret, mode, policy_days, due_at > now() FROM control.rotation_policies ORDER BY secret",
    )
    .fetch_all(&stack.control)
    .await
    .unwrap();
    let row = |name: &str| rows.iter().find(|r| r.0 == name).cloned().unwrap();
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert_eq!(
        row(due.as_str()),
        (due.to_string(), "alternating".into(), 30, true),
        "rotated: due again in 30 days"
    );
    assert_eq!(row(&manual), (manual.clone(), "manual".into(), 90, false));
    assert_eq!(row(&weekly).2, 7);

    // The next day's sweep has nothing more to rotate.
    stack
        .deliver("sweep-2", DUE, serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(stack.emitted_of(ROTATED).len(), 2);
}

#[tokio::test]
async fn bad_rotation_labels_fall_back_to_the_policy_and_stop_no_other_secret() {
    let stack = Stack::start(FAST).await;
    // Sorted first, so the old sweep met them before the good one.
    let huge = stack
        .provision_with(
            &env_name("aa-huge"),
            &[("rotation-period-days", "99999999")],
        )
        .await;
    let unknown = stack
        .provision_with(&env_name("ab-odd"), &[("rotation", "sometimes")])
        .await;
    let good = stack.provision(&env_name("zz-good")).await;
    for secret in [&huge, &unknown, &good] {
        age(&stack, secret.as_str(), 40).await;
    }

    stack
        .deliver("sweep-bad", DUE, serde_json::json!({}))
        .await
        .unwrap();

    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        secrets_in(&stack.emitted_of(ROTATED)),
        set(&[huge.as_str(), unknown.as_str(), good.as_str()]),
        "every database credential was rotated on the platform policy"
    );
    let days: Vec<(String, i32)> =
        sqlx::query_as("SELECT secret, policy_days FROM control.rotation_policies")
            .fetch_all(&stack.control)
            .await
            .unwrap();
    assert!(days.iter().all(|(_, d)| *d == 30), "{days:?}");
}

#[tokio::test]
async fn a_panic_in_one_secret_s_work_is_reported_and_the_sweep_goes_on() {
    let stack = Stack::start(FAST).await;
    let first = stack.provision(&env_name("aa-panics")).await;
    let second = stack.provision(&env_name("zz-after")).await;
    age(&stack, first.as_str(), 40).await;
    age(&stack, second.as_str(), 40).await;
    secret_rotator::fault::arm(first.as_str(), "sweep:panic");

    // Through the runtime's dispatch path, which catches a handler's panic too — but then
    // retries the whole sweep, which would meet the same panic every day.
    let decisions = stack
        .dispatch_until_settled(
            stack.config.clone(),
            raw("sweep-p", DUE, serde_json::json!({})),
            1,
        )
        .await;

    assert_eq!(decisions, [shared::Decision::Done]);
    assert_eq!(
        secrets_in(&stack.emitted_of(ROTATED)),
        [second.to_string()].into()
    );
    let failed = stack.emitted_of(FAILED);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["secret"], first.as_str());
    assert_eq!(failed[0]["step"], "sweep");
    assert!(failed[0]["reason"].as_str().unwrap().contains("panicked"));
}

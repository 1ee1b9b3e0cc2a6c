//! `groundskeeper budget status` reads budget-guard's journal on a real control database
//! (seeded through budget-guard's own journal API, as the service writes it), and `budget
//! resume` publishes exactly its request to `budget-requests` on the Pub/Sub emulator, a
//! malformed budget refused before anything is published.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "backup/fixtures.rs"]
mod fixtures;

use std::time::Duration;

use budget_guard::config::BudgetKey;
use budget_guard::decide::Level;
use budget_guard::journal::{BudgetPeriod, Claim, Journal, Resource};
use fixtures::{cli, stderr, stdout};
use serde_json::json;
use testbed::{PubsubEmulator, ServiceStack};

const TOPIC: &str = "budget-requests";

fn period(id: &str, start: &str) -> BudgetPeriod {
    BudgetPeriod {
        budget: BudgetKey {
            billing_account: "01A2B3-C4D5E6-F7A8B9".into(),
            budget_id: id.into(),
        },
        start: start.parse().unwrap(),
    }
}

/// `period` at `level` (completed), with `database` suspended in it.
async fn suspend(journal: &Journal, period: &BudgetPeriod, level: Level, database: &str) {
    let lease = Duration::from_secs(600);
    let claim = journal.claim_level(period, level, "d-1", lease, 0.85).await;
    assert!(matches!(claim.unwrap(), Claim::Won { .. }));
    let resource = Resource {
        kind: "database".into(),
        name: database.into(),
    };
    let previous = json!({ "connection_limit": -1 });
    journal
        .record_previous(period, &resource, &previous)
        .await
        .unwrap();
    let applied = json!({ "connection_limit": 0 });
    assert!(journal
        .mark_applied(period, &resource, &applied, level)
        .await
        .unwrap());
    assert!(journal.complete_level(period, level, "d-1").await.unwrap());
}

#[tokio::test]
async fn budget_status_lists_each_budget_s_latest_period_and_what_it_holds_suspended() {
    let migrator =
        shared::migrations::control_migrator(&budget_guard::migrations::MIGRATOR).unwrap();
    let stack = ServiceStack::builder().migrations(migrator).build().await;
    let journal = Journal::new(stack.control.clone());
    suspend(
        &journal,
        &period("dev", "2026-11-01T00:00:00Z"),
        Level::Cap,
        "env_shop",
    )
    .await;
    let env = [
        ("GOOGLE_CLOUD_PROJECT", "p"),
        ("DATABASE_URL", stack.control_url.as_str()),
    ];

    let out = cli(&["budget", "status", "--output", "json"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let since = rows[0]["suspended"][0]["since"].clone();
    assert!(since.is_string(), "suspended since when: {rows}");
    assert_eq!(
        rows,
        json!([{
            "budget": "01A2B3-C4D5E6-F7A8B9/dev",
            "period_start": "2026-11-01T00:00:00Z",
            "spend_ratio": 0.85,
            "level": "cap",
            "applying": null,
            "resumed_at": null,
            "suspended": [{ "kind": "database", "name": "env_shop", "since": since }],
        }])
    );

    let out = cli(&["budget", "status"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("85.0%"), "{table}");
    assert!(
        table.contains("  suspended database env_shop since 20"),
        "{table}"
    );
}

#[tokio::test]
async fn budget_resume_publishes_the_request_with_who_asked_and_refuses_a_bad_budget_first() {
    let emulator = PubsubEmulator::start().await;
    emulator.create_topic(TOPIC).await;
    emulator.create_pull_subscription(TOPIC, "capture").await;
    let host = emulator.host();
    let env = [
        ("GOOGLE_CLOUD_PROJECT", emulator.project()),
        ("PUBSUB_EMULATOR_HOST", host.as_str()),
        ("USER", "alice"),
    ];
    for bad in [
        "dev",
        "a/b/c",
        "01A2B3;DROP/dev",
        "billingAccounts/A/budget/dev",
    ] {
        let out = cli(&["budget", "resume", bad], &env).await;
        assert!(!out.status.success(), "{bad:?} was accepted");
    }
    let args = [
        "budget",
        "resume",
        "billingAccounts/01A2B3-C4D5E6-F7A8B9/budgets/dev",
    ];
    let out = cli(&args, &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).trim().is_empty(), "the message id");

    // The first message on the topic is this one: none of the refused ones was published.
    let got = emulator.pull("capture", 10, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "one message");
    assert_eq!(
        got[0].attributes["ce-type"],
        "dev.groundskeeper.budget.resume.requested.v1"
    );
    let data: serde_json::Value = serde_json::from_slice(&got[0].data).unwrap();
    assert_eq!(
        data,
        json!({
            "billing_account": "01A2B3-C4D5E6-F7A8B9",
            "budget_id": "dev",
            "requested_by": "alice",
        })
    );
}

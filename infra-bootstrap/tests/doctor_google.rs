//! doctor's google-mode checks: every grant `iam::grants` implies, read through the four
//! policy clients' stubs, and the budgets' wiring read from a local Budgets REST server.

#[path = "support/fixed_token.rs"]
mod fixed_token;
#[path = "support/policies.rs"]
mod policies;

use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::Json;
use infra_bootstrap::budgets::{desired_budgets, BudgetsRest};
use infra_bootstrap::desired::dead_letter_topic;
use infra_bootstrap::doctor::google::{budget_checks, grant_checks};
use infra_bootstrap::doctor::Check;
use infra_bootstrap::iam::{by_resource, grants, Api, Grant, TOKEN_CREATOR};
use infra_bootstrap::manifest::Manifest;
use policies::{production, FakePolicies};
use serde_json::{json, Value};

fn manifest() -> Manifest {
    production()
}

fn failed(checks: &[Check]) -> Vec<&Check> {
    checks.iter().filter(|c| !c.ok).collect()
}

#[tokio::test]
async fn complete_policies_pass_and_each_policy_is_read_once() {
    let m = manifest();
    let fake = FakePolicies::granted(&m).await;
    const APIS: [Api; 4] = [Api::Pubsub, Api::CloudRun, Api::Iam, Api::ResourceManager];
    let (writes, reads_before) = (fake.all_sets(), APIS.map(|api| fake.gets(api).len()));
    let checks = grant_checks(&m, &fake.clients()).await;

    let all = grants(&m);
    assert_eq!(checks.len(), all.len(), "one check per grant");
    assert!(failed(&checks).is_empty(), "{checks:#?}");
    for (api, before) in APIS.into_iter().zip(reads_before) {
        let read: Vec<String> = fake.gets(api)[before..]
            .iter()
            .map(|r| r.resource.clone())
            .collect();
        let expected: Vec<&str> = by_resource(&all)
            .into_iter()
            .filter(|(a, _, _)| *a == api)
            .map(|(_, r, _)| r)
            .collect();
        assert_eq!(read, expected, "{api:?}");
    }
    assert_eq!(fake.all_sets(), writes, "doctor writes nothing");
}

/// The check for `g`, which must be the only failure.
fn only_failure<'c>(checks: &'c [Check], g: &Grant) -> &'c Check {
    let failed = failed(checks);
    assert_eq!(failed.len(), 1, "{checks:#?}");
    let c = failed[0];
    for part in [&g.resource, &g.role, &g.member] {
        assert!(c.name.contains(part.as_str()), "{c:?} should name {part}");
    }
    assert!(c.detail.contains("infra-bootstrap apply"), "{c:?}");
    c
}

/// The manifest's grant on `api` matching `pick`.
fn grant_of(m: &Manifest, api: Api, pick: impl Fn(&Grant) -> bool) -> Grant {
    grants(m)
        .into_iter()
        .find(|g| g.api == api && pick(g))
        .expect("grant")
}

#[tokio::test]
async fn missing_publisher_on_one_dead_letter_topic_fails_naming_it() {
    let m = manifest();
    let dlq = format!(
        "projects/{}/topics/{}",
        m.project,
        dead_letter_topic("secret-rotator")
    );
    let g = grant_of(&m, Api::Pubsub, |g| g.resource == dlq);
    let fake = FakePolicies::granted(&m).await;
    fake.revoke(&g.resource, &g.role, &g.member);
    let checks = grant_checks(&m, &fake.clients()).await;
    let c = only_failure(&checks, &g);
    assert!(c.detail.contains("dead-lettering"), "{c:?}");
}

#[tokio::test]
async fn missing_token_creator_on_the_push_account_fails_naming_it() {
    let m = manifest();
    let g = grant_of(&m, Api::Iam, |g| g.role == TOKEN_CREATOR);
    let fake = FakePolicies::granted(&m).await;
    fake.revoke(&g.resource, &g.role, &g.member);
    let checks = grant_checks(&m, &fake.clients()).await;
    let c = only_failure(&checks, &g);
    assert!(c.detail.contains("OIDC token"), "{c:?}");
}

#[tokio::test]
async fn missing_invoker_on_one_service_fails_naming_it() {
    let m = manifest();
    let g = grant_of(&m, Api::CloudRun, |g| g.resource.ends_with("/budget-guard"));
    let fake = FakePolicies::granted(&m).await;
    fake.revoke(&g.resource, &g.role, &g.member);
    let checks = grant_checks(&m, &fake.clients()).await;
    let c = only_failure(&checks, &g);
    assert!(c.detail.contains("403"), "{c:?}");
}

#[tokio::test]
async fn runtime_role_held_only_under_a_condition_fails_naming_it() {
    let m = manifest();
    let g = grant_of(&m, Api::ResourceManager, |g| {
        g.member.contains("backup-runner@") && g.role == "roles/storage.objectAdmin"
    });
    let fake = FakePolicies::granted(&m).await;
    // Someone re-grants it with a condition: it may not hold when the service runs.
    fake.make_conditional(&g, "request.time.getHours('UTC') < 6");
    let checks = grant_checks(&m, &fake.clients()).await;
    let c = only_failure(&checks, &g);
    assert!(c.detail.contains("task fails"), "{c:?}");
}

/// A Budgets REST server listing `budgets` for one account; records the accounts asked for.
async fn budgets_server(budgets: Vec<Value>, seen: Arc<Mutex<Vec<String>>>) -> String {
    let app = axum::Router::new().route(
        "/v1/billingAccounts/{acct}/budgets",
        axum::routing::get(move |Path(acct): Path<String>| {
            seen.lock().expect("lock").push(acct);
            let budgets = budgets.clone();
            async move { Json(json!({"budgets": budgets})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The manifest's budgets as the server returns them, `edit` applied to each.
fn live_budgets(m: &Manifest, edit: impl Fn(&str, &mut Value)) -> Vec<Value> {
    desired_budgets(m)
        .expect("budgets")
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let mut body = b.body;
            body["name"] = json!(format!("billingAccounts/01A2B3-C4D5E6-F7A8B9/budgets/b{i}"));
            body["etag"] = json!("e1");
            edit(&b.name, &mut body);
            body
        })
        .collect()
}

async fn store(budgets: Vec<Value>, seen: Arc<Mutex<Vec<String>>>) -> BudgetsRest {
    BudgetsRest {
        http: reqwest::Client::new(),
        credentials: fixed_token::fixed_token(),
        endpoint: budgets_server(budgets, seen).await,
        billing_account: "01A2B3-C4D5E6-F7A8B9".into(),
    }
}

#[tokio::test]
async fn wired_budgets_pass() {
    let m = manifest();
    let seen = Arc::default();
    let rest = store(live_budgets(&m, |_, _| {}), Arc::clone(&seen)).await;
    let checks = budget_checks(&m, &rest).await;
    assert_eq!(*seen.lock().expect("lock"), ["01A2B3-C4D5E6-F7A8B9"]);
    assert_eq!(checks.len(), 2, "one per tier: {checks:#?}");
    assert!(failed(&checks).is_empty(), "{checks:#?}");
}

#[tokio::test]
async fn budget_pointing_at_another_topic_fails_naming_it() {
    let m = manifest();
    let other = "projects/acme-platform-prod/topics/somewhere-else";
    let rest = store(
        live_budgets(&m, |name, body| {
            if name == "groundskeeper-dev" {
                body["notificationsRule"]["pubsubTopic"] = json!(other);
            }
        }),
        Arc::default(),
    )
    .await;
    let checks = budget_checks(&m, &rest).await;
    let failed = failed(&checks);
    assert_eq!(failed.len(), 1, "{checks:#?}");
    assert!(
        failed[0].name.contains("groundskeeper-dev"),
        "{:?}",
        failed[0]
    );
    assert!(failed[0].detail.contains(other), "{:?}", failed[0]);
}

#[tokio::test]
async fn wrong_schema_version_and_missing_budget_fail() {
    let m = manifest();
    let mut budgets = live_budgets(&m, |_, body| {
        body["notificationsRule"]["schemaVersion"] = json!("0.9");
    });
    budgets.retain(|b| b["displayName"] != "groundskeeper-dev");
    let rest = store(budgets, Arc::default()).await;
    let checks = budget_checks(&m, &rest).await;
    let failed: Vec<(&str, &str)> = failed(&checks)
        .iter()
        .map(|c| (c.name.as_str(), c.detail.as_str()))
        .collect();
    assert_eq!(failed.len(), 2, "{checks:#?}");
    assert!(failed[0].0.contains("groundskeeper-dev") && failed[0].1.contains("missing"));
    assert!(failed[1].1.contains("0.9"), "{failed:?}");
}

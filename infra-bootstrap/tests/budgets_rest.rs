//! Budgets over REST against a local HTTP server: the exact JSON (cents as units + nanos),
//! the path, and the token from google-cloud-auth credentials.

#[path = "support/empty_stores.rs"]
mod empty_stores;
#[path = "support/fixed_token.rs"]
mod fixed_token;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use empty_stores::empty_pubsub;
use events::labels::TIER;
use infra_bootstrap::budgets::{desired_budgets, BudgetsRest};
use infra_bootstrap::converge::{self, Desired, Stores};
use infra_bootstrap::manifest::Manifest;
use infra_bootstrap::plan::Action;
use infra_bootstrap::store::Store;
use serde_json::{json, Value};

type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

async fn server(seen: Seen) -> String {
    async fn list(
        State(seen): State<Seen>,
        Path(acct): Path<String>,
        headers: HeaderMap,
    ) -> Json<Value> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        seen.lock()
            .expect("lock")
            .push((format!("GET {acct}"), auth, Value::Null));
        Json(json!({"budgets": []}))
    }
    async fn create(
        State(seen): State<Seen>,
        Path(acct): Path<String>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        seen.lock()
            .expect("lock")
            .push((format!("POST {acct}"), auth, body.clone()));
        Json(body)
    }
    let app = axum::Router::new()
        .route(
            "/v1/billingAccounts/{acct}/budgets",
            axum::routing::get(list).post(create),
        )
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn creates_each_tier_budget_with_exact_json() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/production.example.toml"
    ))
    .expect("read");
    let manifest = Manifest::parse(&text).expect("valid");
    let seen: Seen = Arc::default();
    let store = Arc::new(BudgetsRest {
        http: reqwest::Client::new(),
        credentials: fixed_token::fixed_token(),
        endpoint: server(seen.clone()).await,
        billing_account: "01A2B3-C4D5E6-F7A8B9".into(),
    });
    let desired = Desired {
        budgets: desired_budgets(&manifest).expect("budgets"),
        ..Desired::empty()
    };
    let changes = infra_bootstrap::plan::diff(&desired.budgets, &store.list().await.expect("list"));
    assert!(changes.iter().all(|c| c.action == Action::Create));
    // Only the budget store: topics and subscriptions are tested on the emulator.
    converge::apply(
        &desired,
        &Stores {
            budgets: Some(store),
            ..empty_pubsub()
        },
        &changes,
    )
    .await
    .expect("apply");

    let seen = seen.lock().expect("lock").clone();
    let posts: Vec<&(String, String, Value)> =
        seen.iter().filter(|s| s.0.starts_with("POST")).collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].0, "POST 01A2B3-C4D5E6-F7A8B9");
    assert_eq!(posts[0].1, "Bearer test-token");
    assert_eq!(
        posts[0].2,
        json!({
            "displayName": "groundskeeper-dev",
            // Filters on the label provisioned resources carry, from the one vocabulary.
            "budgetFilter": {"projects": ["projects/acme-platform-prod"], "labels": {TIER: ["dev"]}},
            "amount": {"specifiedAmount": {"currencyCode": "EUR", "units": "250", "nanos": 500000000}},
            "thresholdRules": [
                {"thresholdPercent": 0.5, "spendBasis": "CURRENT_SPEND"},
                {"thresholdPercent": 0.8, "spendBasis": "CURRENT_SPEND"},
                {"thresholdPercent": 1.0, "spendBasis": "CURRENT_SPEND"}
            ],
            "notificationsRule": {"pubsubTopic": "projects/acme-platform-prod/topics/budget-alerts", "schemaVersion": "1.0"}
        })
    );
    assert_eq!(
        posts[0].2["budgetFilter"]["labels"],
        json!({"tier": ["dev"]})
    );
    assert_eq!(
        posts[1].2["budgetFilter"]["labels"],
        json!({"tier": ["staging"]})
    );
    assert_eq!(
        posts[1].2["amount"]["specifiedAmount"],
        json!({"currencyCode": "EUR", "units": "800", "nanos": 0})
    );
}

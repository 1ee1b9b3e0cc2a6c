//! doctor's google-mode checks: the service agent's dead-lettering grants read through the
//! Pub/Sub `SchemaService` stub, and the budgets' wiring read from a local Budgets REST server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::Json;
use google_cloud_auth::credentials::{
    CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_iam_v1::model::{Binding, GetIamPolicyRequest, Policy, SetIamPolicyRequest};
use google_cloud_pubsub::client::SchemaService;
use infra_bootstrap::budgets::{desired_budgets, BudgetsRest};
use infra_bootstrap::desired::dead_letter_topic;
use infra_bootstrap::doctor::google::{budget_checks, grant_checks};
use infra_bootstrap::doctor::Check;
use infra_bootstrap::iam::{grants, Api};
use infra_bootstrap::manifest::Manifest;
use serde_json::{json, Value};

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/production.example.toml"
    ))
    .expect("read");
    Manifest::parse(&text).expect("valid")
}

/// Serves one policy per resource and records every read; writes are a test failure.
#[derive(Debug, Default)]
struct Policies {
    by_resource: BTreeMap<String, Policy>,
    gets: Mutex<Vec<String>>,
}

impl google_cloud_pubsub::stub::SchemaService for Policies {
    async fn get_iam_policy(
        &self,
        req: GetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        self.gets.lock().expect("lock").push(req.resource.clone());
        Ok(Response::from(
            self.by_resource
                .get(&req.resource)
                .cloned()
                .unwrap_or_default(),
        ))
    }

    async fn set_iam_policy(
        &self,
        _: SetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        panic!("doctor must not write IAM policies")
    }
}

/// Every Pub/Sub grant in place, next to an unrelated binding, except those `keep` rejects.
fn policies(manifest: &Manifest, keep: impl Fn(&str, &str) -> bool) -> Policies {
    let mut by_resource: BTreeMap<String, Policy> = BTreeMap::new();
    for g in grants(manifest)
        .into_iter()
        .filter(|g| g.api == Api::Pubsub)
    {
        let policy = by_resource.entry(g.resource.clone()).or_insert_with(|| {
            Policy::new().set_bindings([Binding::new()
                .set_role("roles/pubsub.viewer")
                .set_members(["user:ops@example.com"])])
        });
        if keep(&g.resource, &g.role) {
            policy.bindings.push(
                Binding::new()
                    .set_role(g.role.clone())
                    .set_members([g.member.clone()]),
            );
        }
    }
    Policies {
        by_resource,
        gets: Mutex::default(),
    }
}

fn failed(checks: &[Check]) -> Vec<&Check> {
    checks.iter().filter(|c| !c.ok).collect()
}

#[tokio::test]
async fn complete_policies_pass_and_every_resource_is_read() {
    let m = manifest();
    let fake = Arc::new(policies(&m, |_, _| true));
    let client = SchemaService::from_stub::<Policies>(fake.clone());
    let checks = grant_checks(&m, &client).await;

    let expected: Vec<String> = grants(&m)
        .into_iter()
        .filter(|g| g.api == Api::Pubsub)
        .map(|g| g.resource)
        .collect();
    assert!(
        expected.len() >= 8,
        "4 dead-letter topics and 4+ push subscriptions"
    );
    assert_eq!(*fake.gets.lock().expect("lock"), expected);
    assert_eq!(checks.len(), expected.len());
    assert!(failed(&checks).is_empty(), "{checks:#?}");
}

#[tokio::test]
async fn missing_publisher_on_one_dead_letter_topic_fails_naming_it() {
    let m = manifest();
    let dlq = format!(
        "projects/{}/topics/{}",
        m.project,
        dead_letter_topic("secret-rotator")
    );
    let fake = Arc::new(policies(&m, |resource, role| {
        !(resource == dlq && role == "roles/pubsub.publisher")
    }));
    let client = SchemaService::from_stub::<Policies>(fake);
    let checks = grant_checks(&m, &client).await;

    let failed = failed(&checks);
    assert_eq!(failed.len(), 1, "{checks:#?}");
    assert!(failed[0].name.contains(&dlq), "{:?}", failed[0]);
    assert!(failed[0].name.contains("roles/pubsub.publisher"));
    assert!(failed[0]
        .name
        .contains(&m.iam.as_ref().expect("iam").pubsub_service_agent));
}

#[derive(Debug)]
struct FixedToken;

impl CredentialsProvider for FixedToken {
    async fn headers(
        &self,
        _: http::Extensions,
    ) -> Result<CacheableResource<http::HeaderMap>, google_cloud_auth::errors::CredentialsError>
    {
        Ok(CacheableResource::New {
            entity_tag: EntityTag::new(),
            data: http::HeaderMap::new(),
        })
    }
    async fn universe_domain(&self) -> Option<String> {
        None
    }
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
        credentials: Credentials::from(FixedToken),
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

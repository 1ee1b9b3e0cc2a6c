//! Cloud Billing budgets, one per environment tier, wired to the budget-alerts topic.
//!
//! No official Rust crate exists, so this speaks the v1 REST API with reqwest and a
//! `google-cloud-auth` token. (v1's `notificationsRule` is v1beta1's `allUpdatesRule`.)
//! Budgets have no labels: ours are the ones whose display name starts with `groundskeeper-`.

use std::collections::BTreeMap;

use anyhow::Context;
use async_trait::async_trait;
use events::labels::TIER;
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use serde_json::{json, Value};

use crate::manifest::{Manifest, Mode};
use crate::money::Money;
use crate::plan::Spec;
use crate::store::Store;

/// The Budgets API root.
pub const BUDGETS_API: &str = "https://billingbudgets.googleapis.com";
const PREFIX: &str = "groundskeeper-";

/// One budget, as the plan compares it; `body` is the exact JSON sent.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetSpec {
    /// Display name, `groundskeeper-<tier>`.
    pub name: String,
    /// Server-assigned `billingAccounts/X/budgets/ID` (live only).
    pub resource: Option<String>,
    /// The Budget resource (without name and etag).
    pub body: Value,
}

/// The manifest's budgets (none in emulator mode: there is no Billing emulator).
pub fn desired_budgets(manifest: &Manifest) -> anyhow::Result<Vec<BudgetSpec>> {
    let Some(b) = manifest
        .budgets
        .as_ref()
        .filter(|_| manifest.mode == Mode::Google)
    else {
        return Ok(vec![]);
    };
    let topic = format!("projects/{}/topics/{}", manifest.project, b.topic);
    b.tiers
        .iter()
        .map(|tier| {
            let money = Money::parse(&tier.amount).map_err(anyhow::Error::msg)?;
            let name = format!("{PREFIX}{}", tier.name);
            let rules: Vec<Value> = b
                .thresholds
                .iter()
                .map(|t| json!({"thresholdPercent": t, "spendBasis": "CURRENT_SPEND"}))
                .collect();
            let body = json!({
                "displayName": name,
                "budgetFilter": {
                    "projects": [format!("projects/{}", manifest.project)],
                    // The label provisioned resources carry, so spend is attributed.
                    "labels": {TIER: [tier.name]},
                },
                "amount": {"specifiedAmount": {
                    "currencyCode": b.currency,
                    "units": money.units.to_string(),
                    "nanos": money.nanos,
                }},
                "thresholdRules": rules,
                "notificationsRule": {"pubsubTopic": topic, "schemaVersion": "1.0"},
            });
            Ok(BudgetSpec {
                name,
                resource: None,
                body,
            })
        })
        .collect()
}

impl Spec for BudgetSpec {
    const KIND: &'static str = "budget";
    fn name(&self) -> &str {
        &self.name
    }
    fn managed(&self) -> bool {
        self.name.starts_with(PREFIX)
    }
    fn fields(&self) -> BTreeMap<&'static str, String> {
        let field = |k: &str| {
            self.body
                .get(k)
                .map(Value::to_string)
                .unwrap_or_else(|| "-".into())
        };
        BTreeMap::from([
            ("budget_filter", field("budgetFilter")),
            ("amount", field("amount")),
            ("threshold_rules", field("thresholdRules")),
            ("notifications_rule", field("notificationsRule")),
        ])
    }
}

/// The budgets of one billing account over REST.
#[derive(Debug, Clone)]
pub struct BudgetsRest {
    pub http: reqwest::Client,
    pub credentials: Credentials,
    /// [`BUDGETS_API`], or a local server in tests.
    pub endpoint: String,
    pub billing_account: String,
}

impl BudgetsRest {
    /// Application default credentials against the real API.
    pub fn connect(billing_account: &str) -> anyhow::Result<Self> {
        let credentials = google_cloud_auth::credentials::Builder::default()
            .with_scopes(["https://www.googleapis.com/auth/cloud-billing"])
            .build()?;
        Ok(Self {
            http: reqwest::Client::new(),
            credentials,
            endpoint: BUDGETS_API.to_owned(),
            billing_account: billing_account.to_owned(),
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let headers = match self.credentials.headers(http::Extensions::new()).await? {
            CacheableResource::New { data, .. } => data,
            CacheableResource::NotModified => http::HeaderMap::new(),
        };
        let resp = req.headers(headers).send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(status.is_success(), "budgets API answered {status}: {text}");
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).context("budgets API answered invalid JSON")
    }

    fn resource_of<'a>(&self, spec: &'a BudgetSpec) -> anyhow::Result<&'a str> {
        spec.resource
            .as_deref()
            .context("live budget without a resource name")
    }
}

/// The fields of a live budget we compare (the server adds name and etag).
fn comparable(mut budget: Value) -> Value {
    if let Some(obj) = budget.as_object_mut() {
        obj.remove("name");
        obj.remove("etag");
    }
    budget
}

#[async_trait]
impl Store<BudgetSpec> for BudgetsRest {
    async fn list(&self) -> anyhow::Result<Vec<BudgetSpec>> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let url = format!(
                "{}/v1/billingAccounts/{}/budgets",
                self.endpoint, self.billing_account
            );
            let page = self
                .send(self.http.get(url).query(&[("pageToken", &token)]))
                .await?;
            for budget in page
                .get("budgets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let name = budget
                    .get("displayName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let resource = budget
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                out.push(BudgetSpec {
                    name,
                    resource,
                    body: comparable(budget),
                });
            }
            match page.get("nextPageToken").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => token = next.to_owned(),
                _ => return Ok(out),
            }
        }
    }

    async fn create(&self, spec: &BudgetSpec) -> anyhow::Result<()> {
        let url = format!(
            "{}/v1/billingAccounts/{}/budgets",
            self.endpoint, self.billing_account
        );
        self.send(self.http.post(url).json(&spec.body)).await?;
        Ok(())
    }

    async fn update(&self, spec: &BudgetSpec, _fields: &[&'static str]) -> anyhow::Result<()> {
        // The spec to write is the desired one, but its server name comes from the live list.
        let live = self.list().await?;
        let current = live
            .iter()
            .find(|b| b.name == spec.name)
            .context("budget vanished")?;
        let url = format!("{}/v1/{}", self.endpoint, self.resource_of(current)?);
        let mask = "budgetFilter,amount,thresholdRules,notificationsRule";
        self.send(
            self.http
                .patch(url)
                .query(&[("updateMask", mask)])
                .json(&spec.body),
        )
        .await?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> anyhow::Result<()> {
        let live = self.list().await?;
        let current = live
            .iter()
            .find(|b| b.name == name)
            .context("budget vanished")?;
        let url = format!("{}/v1/{}", self.endpoint, self.resource_of(current)?);
        self.send(self.http.delete(url)).await?;
        Ok(())
    }
}

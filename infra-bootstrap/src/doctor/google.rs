//! Google-mode checks (the emulator has neither IAM nor Billing): the grants the Pub/Sub
//! service agent needs for dead-lettering, and budgets wired to the budget topic.

use serde_json::Value;

use super::Check;
use crate::budgets::{desired_budgets, BudgetSpec, BudgetsRest};
use crate::iam::{grants, Api, PolicyApi};
use crate::manifest::{Manifest, Mode};
use crate::store::{progress, Store};

/// The clients the google-mode checks read through.
pub struct Clients {
    /// Pub/Sub IAM (the `SchemaService` client, as `iam` uses it).
    pub pubsub_iam: Box<dyn PolicyApi>,
    /// The billing account's budgets; `None` when the manifest has no `[budgets]`.
    pub budgets: Option<Box<dyn Store<BudgetSpec>>>,
}

impl Clients {
    /// Clients with default credentials; `None` on the emulator.
    pub async fn connect(
        manifest: &Manifest,
        emulator: Option<&str>,
    ) -> anyhow::Result<Option<Self>> {
        if manifest.mode == Mode::Emulator || emulator.is_some() {
            return Ok(None);
        }
        let budgets: Option<Box<dyn Store<BudgetSpec>>> = match &manifest.budgets {
            Some(b) => Some(Box::new(BudgetsRest::connect(&b.billing_account)?)),
            None => None,
        };
        Ok(Some(Self {
            pubsub_iam: Box::new(
                google_cloud_pubsub::client::SchemaService::builder()
                    .build()
                    .await?,
            ),
            budgets,
        }))
    }

    /// Every google-mode check, grants first.
    pub async fn checks(&self, manifest: &Manifest) -> Vec<Check> {
        let mut out = grant_checks(manifest, self.pubsub_iam.as_ref()).await;
        if let Some(budgets) = &self.budgets {
            out.extend(budget_checks(manifest, budgets.as_ref()).await);
        }
        out
    }
}

fn check(name: String, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        ok,
        skipped: false,
        detail: detail.into(),
    }
}

/// One check per Pub/Sub grant the manifest implies: the service agent must publish to each
/// dead-letter topic and subscribe to each push subscription, or dead-lettering fails.
pub async fn grant_checks(manifest: &Manifest, pubsub_iam: &dyn PolicyApi) -> Vec<Check> {
    progress(format_args!("reading Pub/Sub IAM policies"));
    let mut out = Vec::new();
    for g in grants(manifest)
        .into_iter()
        .filter(|g| g.api == Api::Pubsub)
    {
        let name = format!("{} grants {} to {}", g.resource, g.role, g.member);
        // Conditional bindings may not apply when Pub/Sub acts, so only unconditional count
        // (the same rule `iam::ensure` writes by).
        let (ok, detail) = match pubsub_iam.get(&g.resource).await {
            Ok(policy) => {
                let held = policy.bindings.iter().any(|b| {
                    b.role == g.role && b.condition.is_none() && b.members.contains(&g.member)
                });
                let why = if held {
                    String::new()
                } else {
                    "missing: dead-lettering fails without it; run apply".to_owned()
                };
                (held, why)
            }
            Err(e) => (false, format!("cannot read the policy: {e}")),
        };
        out.push(check(name, ok, detail));
    }
    out
}

/// One check per manifest budget: it exists and notifies the manifest's budget topic with
/// schema version 1.0.
pub async fn budget_checks(manifest: &Manifest, store: &dyn Store<BudgetSpec>) -> Vec<Check> {
    let Some(b) = &manifest.budgets else {
        return vec![];
    };
    let topic = format!("projects/{}/topics/{}", manifest.project, b.topic);
    progress(format_args!("reading budgets"));
    let (desired, live) = match (desired_budgets(manifest), store.list().await) {
        (Ok(d), Ok(l)) => (d, l),
        (Err(e), _) | (_, Err(e)) => {
            return vec![check(
                format!("budgets of billing account {} readable", b.billing_account),
                false,
                e.to_string(),
            )]
        }
    };
    desired
        .iter()
        .map(|want| {
            let name = format!("budget {} notifies {topic} (schema 1.0)", want.name);
            let Some(have) = live.iter().find(|l| l.name == want.name) else {
                return check(name, false, "missing: run apply");
            };
            let rule = have.body.get("notificationsRule");
            let field = |k: &str| rule.and_then(|r| r.get(k)).and_then(Value::as_str);
            let (live_topic, schema) = (field("pubsubTopic"), field("schemaVersion"));
            let ok = live_topic == Some(topic.as_str()) && schema == Some("1.0");
            let detail = if ok {
                String::new()
            } else {
                format!(
                    "notifies {} with schema {}: run apply",
                    live_topic.unwrap_or("no topic"),
                    schema.unwrap_or("none")
                )
            };
            check(name, ok, detail)
        })
        .collect()
}

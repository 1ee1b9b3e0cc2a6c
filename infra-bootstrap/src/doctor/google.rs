//! Google-mode checks (the emulator has neither IAM nor Billing): every grant `iam::grants`
//! implies (dead-lettering, push tokens, push invocation, runtime roles), nobody else
//! publishing to the budget topic, and budgets wired to it.

use serde_json::Value;

use super::Check;
use crate::budgets::{desired_budgets, BudgetSpec, BudgetsRest};
use crate::iam::{grants, read_policies, PolicyClients, Sole};
use crate::manifest::Manifest;
use crate::store::{progress, Store};

/// The clients the google-mode checks read through.
pub struct Clients {
    /// The clients holding the policies, as `iam` writes them.
    pub iam: PolicyClients,
    /// The billing account's budgets; `None` when the manifest has no `[budgets]`.
    pub budgets: Option<Box<dyn Store<BudgetSpec>>>,
}

impl Clients {
    /// Clients with default credentials; `None` on the emulator.
    pub async fn connect(
        manifest: &Manifest,
        emulator: Option<&str>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(iam) = PolicyClients::for_manifest(manifest, emulator).await? else {
            return Ok(None);
        };
        let budgets: Option<Box<dyn Store<BudgetSpec>>> = match &manifest.budgets {
            Some(b) => Some(Box::new(BudgetsRest::connect(&b.billing_account)?)),
            None => None,
        };
        Ok(Some(Self { iam, budgets }))
    }

    /// Every google-mode check, grants first.
    pub async fn checks(&self, manifest: &Manifest) -> Vec<Check> {
        let mut out = grant_checks(manifest, &self.iam).await;
        out.extend(sole_checks(manifest, &self.iam).await);
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

/// One check per grant the manifest implies, each policy read once (as `plan` reads them).
/// Only unconditional bindings count (the rule `iam::ensure` writes by).
pub async fn grant_checks(manifest: &Manifest, clients: &PolicyClients) -> Vec<Check> {
    let wanted = grants(manifest);
    let reads = read_policies(clients, &wanted).await;
    let mut out = Vec::new();
    for read in &reads {
        for (g, held) in read.held() {
            let name = format!("{} grants {} to {}", g.resource, g.role, g.member);
            out.push(match held {
                Ok(true) => check(name, true, ""),
                Ok(false) => check(
                    name,
                    false,
                    format!(
                        "missing: {}; run `infra-bootstrap apply`",
                        read.api.without_it()
                    ),
                ),
                Err(e) => check(
                    name,
                    false,
                    format!("cannot read the policy: {e}; doctor needs getIamPolicy on it"),
                ),
            });
        }
    }
    out
}

/// The budget topic's publishers: fails naming everyone else who holds the role on it,
/// conditionally or not (no check without `[budgets]` in google mode).
pub async fn sole_checks(manifest: &Manifest, clients: &PolicyClients) -> Vec<Check> {
    let Some(sole) = Sole::of_manifest(manifest) else {
        return vec![];
    };
    let name = format!(
        "{} grants {} only to {}",
        sole.resource,
        sole.role,
        sole.members.join(", ")
    );
    let policy = clients.for_api(sole.api).get(&sole.resource).await;
    let others = match policy {
        Ok(policy) => sole.intruders(&policy),
        Err(e) => {
            let detail = format!("cannot read the policy: {e}; doctor needs getIamPolicy on it");
            return vec![check(name, false, detail)];
        }
    };
    if others.is_empty() {
        return vec![check(name, true, "")];
    }
    let detail = format!(
        "also held by {}: they can forge budget notifications; run `infra-bootstrap apply` \
         to remove them (or name them in [budgets] publishers)",
        others.join(", ")
    );
    vec![check(name, false, detail)]
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

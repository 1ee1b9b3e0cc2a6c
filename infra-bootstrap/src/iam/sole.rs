//! Roles only some members may hold on a resource: `roles/pubsub.publisher` on the budget
//! topic, held by Cloud Billing's account and the manifest's `[budgets] publishers` alone.
//! A push token only proves that Pub/Sub delivered a message, not who published it, so
//! anyone else who can publish there can forge a budget notification.
//!
//! The allowed members are ordinary grants (`super::grants`: added, planned and checked
//! like every other). Everyone else holding the role on the resource is planned as a
//! `delete` line of kind `iam-grant`, one per member, and removed by `apply` in one
//! read-modify-write; other roles are left as read. A conditional binding of the role
//! counts: its condition may hold when the member publishes.

use google_cloud_gax::error::rpc::Code;
use google_cloud_iam_v1::model::Policy;

use super::{modify, Api, Grant, PolicyClients, KIND};
use crate::manifest::Manifest;
use crate::plan::{Action, Change};
use crate::store::progress;

/// Cloud Billing's own account, which publishes budget notifications.
pub const BILLING_PUBLISHER: &str =
    "serviceAccount:billing-budget-alert@system.gserviceaccount.com";

/// The role restricted on the budget topic.
pub const PUBLISHER: &str = "roles/pubsub.publisher";

/// `role` on `resource` is for `members` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sole {
    pub api: Api,
    pub resource: String,
    pub role: String,
    pub members: Vec<String>,
}

impl Sole {
    /// The budget topic's publishers: with `[budgets]` in google mode (`[iam]` and a
    /// region, when `super::grants` grants anything at all); none otherwise.
    pub fn of_manifest(manifest: &Manifest) -> Option<Self> {
        let (Some(b), Some(_), Some(_)) = (&manifest.budgets, &manifest.iam, &manifest.region)
        else {
            return None;
        };
        let mut members = vec![BILLING_PUBLISHER.to_owned()];
        members.extend(
            b.publishers
                .iter()
                .filter(|m| *m != BILLING_PUBLISHER)
                .cloned(),
        );
        Some(Self {
            api: Api::Pubsub,
            resource: format!("projects/{}/topics/{}", manifest.project, b.topic),
            role: PUBLISHER.to_owned(),
            members,
        })
    }

    /// The grants of the allowed members.
    pub fn grants(&self) -> impl Iterator<Item = Grant> + '_ {
        self.members.iter().map(|m| self.grant(m))
    }

    fn grant(&self, member: &str) -> Grant {
        Grant {
            api: self.api,
            resource: self.resource.clone(),
            role: self.role.clone(),
            member: member.to_owned(),
        }
    }

    /// Everyone else holding the role in `policy`, each once, in policy order.
    pub fn intruders(&self, policy: &Policy) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let held = policy.bindings.iter().filter(|b| b.role == self.role);
        for member in held.flat_map(|b| &b.members) {
            if !self.members.contains(member) && !out.contains(member) {
                out.push(member.clone());
            }
        }
        out
    }
}

/// One `delete` line per member to remove. A resource that does not exist yet has nobody
/// to remove (apply creates it empty).
pub async fn plan_revokes(clients: &PolicyClients, sole: &[Sole]) -> anyhow::Result<Vec<Change>> {
    let mut changes = Vec::new();
    for s in sole {
        let policy = match clients.for_api(s.api).get(&s.resource).await {
            Ok(policy) => policy,
            Err(e) if e.status().is_some_and(|st| st.code == Code::NotFound) => continue,
            Err(e) => anyhow::bail!(
                "reading the IAM policy of {}: {e} (plan needs getIamPolicy on it)",
                s.resource
            ),
        };
        changes.extend(s.intruders(&policy).into_iter().map(|m| Change {
            kind: KIND,
            name: s.grant(&m).name(),
            action: Action::Delete,
        }));
    }
    Ok(changes)
}

/// Removes from each policy of `sole` the members `changes` (from [`plan_revokes`]) delete,
/// from every binding of the role (a binding left empty goes), in one read-modify-write per
/// policy. Returns the members removed, as `RESOURCE ROLE MEMBER`.
pub async fn revoke(
    clients: &PolicyClients,
    sole: &[Sole],
    changes: &[Change],
) -> anyhow::Result<Vec<String>> {
    let mut removed = Vec::new();
    for s in sole {
        let planned = |m: &String| {
            let name = s.grant(m).name();
            changes
                .iter()
                .any(|c| c.kind == KIND && c.action == Action::Delete && c.name == name)
        };
        let done = modify(clients.for_api(s.api), &s.resource, |policy| {
            let gone: Vec<String> = s.intruders(policy).into_iter().filter(planned).collect();
            for b in policy.bindings.iter_mut().filter(|b| b.role == s.role) {
                b.members.retain(|m| !gone.contains(m));
            }
            policy.bindings.retain(|b| !b.members.is_empty());
            gone
        })
        .await?;
        for m in done {
            progress(format_args!(
                "removed {} from {m} on {}",
                s.role, s.resource
            ));
            removed.push(s.grant(&m).name());
        }
    }
    Ok(removed)
}

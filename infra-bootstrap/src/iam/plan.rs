//! The manifest's grants as plan lines (`iam-grant RESOURCE ROLE MEMBER`: create or
//! unchanged), and apply carrying out the ones planned as create.
//!
//! A grant of the manifest is never planned as delete: groundskeeper only adds bindings and
//! never revokes one, even when its role leaves the manifest, because a binding it did not
//! write (or one a person added on purpose) looks the same in the policy as one it did. The
//! exception is a role only some members may hold (`super::sole`).

use std::collections::HashSet;

use google_cloud_gax::error::rpc::Code;

use super::{ensure_grants, read_policies, Grant, PolicyClients};
use crate::plan::{Action, Change};

/// The plan's kind for grants.
pub const KIND: &str = "iam-grant";

/// One line per grant: create when the live policy lacks the unconditional binding,
/// unchanged when it holds it. Reads each policy once; writes nothing.
pub async fn plan(clients: &PolicyClients, grants: &[Grant]) -> anyhow::Result<Vec<Change>> {
    let reads = read_policies(clients, grants).await;
    let mut changes = Vec::new();
    for (grant, held) in reads.iter().flat_map(|r| r.held()) {
        let action = match held {
            Ok(true) => Action::Unchanged,
            Ok(false) => Action::Create,
            // The topic or subscription does not exist yet: apply creates it before granting.
            Err(e) if e.status().is_some_and(|s| s.code == Code::NotFound) => Action::Create,
            Err(e) => anyhow::bail!(
                "reading the IAM policy of {}: {e} (plan needs getIamPolicy on it)",
                grant.resource
            ),
        };
        changes.push(Change {
            kind: KIND,
            name: grant.name(),
            action,
        });
    }
    Ok(changes)
}

/// Adds the grants of `desired` that `changes` (from [`plan`]) create, one read-modify-write
/// per policy. Returns the grants added: none when the policies already held them.
pub async fn apply<'g>(
    clients: &PolicyClients,
    desired: &'g [Grant],
    changes: &[Change],
) -> anyhow::Result<Vec<&'g Grant>> {
    let planned: HashSet<&str> = changes
        .iter()
        .filter(|c| c.kind == KIND && c.action == Action::Create)
        .map(|c| c.name.as_str())
        .collect();
    let todo = desired
        .iter()
        .filter(|g| planned.contains(g.name().as_str()));
    ensure_grants(clients, todo).await
}

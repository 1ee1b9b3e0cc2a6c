//! Converging policies: add what is missing in one read-modify-write per resource, keep
//! every other binding as read, retry when the etag moved on.

use anyhow::Context;
use google_cloud_gax::error::rpc::Code;
use google_cloud_iam_v1::model::{Binding, Policy};

use super::{by_resource, Grant, PolicyApi, PolicyClients};
use crate::store::progress;

/// Attempts before giving up on a policy that keeps changing under us.
pub const MAX_ATTEMPTS: u32 = 5;

/// Whether `policy` grants `grant` unconditionally. A conditional binding may not apply when
/// the member acts (time, resource or request conditions), so it does not count.
pub fn holds(policy: &Policy, grant: &Grant) -> bool {
    policy
        .bindings
        .iter()
        .any(|b| b.role == grant.role && b.condition.is_none() && b.members.contains(&grant.member))
}

/// Adds `grant` unless present. Returns whether the policy changed.
pub async fn ensure(api: &dyn PolicyApi, grant: &Grant) -> anyhow::Result<bool> {
    Ok(!ensure_all(api, &grant.resource, &[grant]).await?.is_empty())
}

/// Adds every grant of `grants` (all on `resource`) that the policy lacks, in one write.
/// Other bindings, conditional ones included, are written back as read. Returns the grants
/// added (none: nothing was written).
pub async fn ensure_all<'g>(
    api: &dyn PolicyApi,
    resource: &str,
    grants: &[&'g Grant],
) -> anyhow::Result<Vec<&'g Grant>> {
    for attempt in 1..=MAX_ATTEMPTS {
        let mut policy = api
            .get(resource)
            .await
            .with_context(|| format!("reading the IAM policy of {resource}"))?;
        let missing: Vec<&Grant> = grants
            .iter()
            .copied()
            .filter(|g| !holds(&policy, g))
            .collect();
        if missing.is_empty() {
            return Ok(missing);
        }
        for g in &missing {
            add(&mut policy, g);
        }
        // The policy still carries the etag we read: a concurrent change makes this ABORTED.
        match api.set(resource, policy).await {
            Ok(_) => return Ok(missing),
            Err(e)
                if e.status().is_some_and(|s| s.code == Code::Aborted)
                    && attempt < MAX_ATTEMPTS =>
            {
                progress(format_args!(
                    "policy of {resource} changed concurrently; retrying"
                ));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("writing the IAM policy of {resource}"))
            }
        }
    }
    anyhow::bail!("policy of {resource} kept changing; gave up after {MAX_ATTEMPTS} attempts")
}

/// Adds the member to the role's unconditional binding, or a new binding for it.
fn add(policy: &mut Policy, grant: &Grant) {
    let unconditional = policy
        .bindings
        .iter_mut()
        .find(|b| b.role == grant.role && b.condition.is_none());
    match unconditional {
        Some(b) => b.members.push(grant.member.clone()),
        None => policy.bindings.push(
            Binding::new()
                .set_role(&grant.role)
                .set_members([grant.member.clone()]),
        ),
    }
}

/// Ensures `grants`: one read-modify-write per policy, in order of first appearance, each
/// grant added reported as it is made. Returns the grants added (none: nothing was written).
pub async fn ensure_grants<'g>(
    clients: &PolicyClients,
    grants: impl IntoIterator<Item = &'g Grant>,
) -> anyhow::Result<Vec<&'g Grant>> {
    let mut added = Vec::new();
    for (api, resource, group) in by_resource(grants) {
        for grant in ensure_all(clients.for_api(api), resource, &group).await? {
            progress(format_args!(
                "granted {} to {} on {resource}",
                grant.role, grant.member
            ));
            added.push(grant);
        }
    }
    Ok(added)
}

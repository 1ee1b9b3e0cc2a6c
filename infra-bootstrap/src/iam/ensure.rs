//! Converging policies: add what is missing in one read-modify-write per resource, keep
//! every other binding as read, retry when the etag moved on.
//!
//! The retry wraps the whole read-modify-write (`backon`: exponential, jittered, bounded), not
//! the write: a write with a stale etag fails again however often it is sent, which is all
//! the clients' own retry policies could do. Only ABORTED (the etag conflict) is retried;
//! jitter keeps two bootstraps racing on one policy from colliding again in step.

use std::time::Duration;

use anyhow::Context;
use backon::{ExponentialBuilder, Retryable};
use google_cloud_gax::error::rpc::Code;
use google_cloud_iam_v1::model::{Binding, Policy};

use super::{by_resource, Grant, PolicyApi, PolicyClients};
use crate::store::progress;

/// Attempts before giving up on a policy that keeps changing under us.
pub const MAX_ATTEMPTS: u32 = 5;

/// The pause before the first retry; each further one doubles (plus up to as much jitter).
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);

/// Why one read-modify-write failed: a conflict is worth another one, the rest is not.
enum Failure {
    Conflict(google_cloud_gax::error::Error),
    Other(anyhow::Error),
}

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
/// added (none: nothing was written). A conflict (ABORTED) starts over from the read, up to
/// [`MAX_ATTEMPTS`] attempts in all, pausing [`FIRST_RETRY_DELAY`] and doubling, jittered.
pub async fn ensure_all<'g>(
    api: &dyn PolicyApi,
    resource: &str,
    grants: &[&'g Grant],
) -> anyhow::Result<Vec<&'g Grant>> {
    modify(api, resource, |policy| {
        let missing: Vec<&Grant> = grants
            .iter()
            .copied()
            .filter(|g| !holds(policy, g))
            .collect();
        for g in &missing {
            add(policy, g);
        }
        missing
    })
    .await
}

/// Reads `resource`'s policy, lets `edit` change it and say what it changed, and writes it
/// back under the etag read unless `edit` changed nothing; a conflict (ABORTED) starts over
/// from the read (see [`ensure_all`]). Returns what `edit` reported on the attempt written.
pub async fn modify<T>(
    api: &dyn PolicyApi,
    resource: &str,
    edit: impl Fn(&mut Policy) -> Vec<T>,
) -> anyhow::Result<Vec<T>> {
    let backoff = ExponentialBuilder::new()
        .with_min_delay(FIRST_RETRY_DELAY)
        .with_factor(2.0)
        .with_max_times(MAX_ATTEMPTS as usize - 1)
        .with_jitter();
    (|| read_modify_write(api, resource, &edit))
        .retry(backoff)
        .when(|f| matches!(f, Failure::Conflict(_)))
        .notify(|_, pause: Duration| {
            progress(format_args!(
                "policy of {resource} changed concurrently; retrying in {} ms",
                pause.as_millis()
            ))
        })
        .await
        .map_err(|f| match f {
            Failure::Conflict(e) => anyhow::Error::new(e).context(format!(
                "policy of {resource} kept changing; gave up after {MAX_ATTEMPTS} attempts"
            )),
            Failure::Other(e) => e,
        })
}

/// One attempt: read, edit, write back under the etag read.
async fn read_modify_write<T>(
    api: &dyn PolicyApi,
    resource: &str,
    edit: &impl Fn(&mut Policy) -> Vec<T>,
) -> Result<Vec<T>, Failure> {
    let mut policy = api
        .get(resource)
        .await
        .with_context(|| format!("reading the IAM policy of {resource}"))
        .map_err(Failure::Other)?;
    let changed = edit(&mut policy);
    if changed.is_empty() {
        return Ok(changed);
    }
    // The policy still carries the etag we read: a concurrent change makes this ABORTED.
    match api.set(resource, policy).await {
        Ok(_) => Ok(changed),
        Err(e) if e.status().is_some_and(|s| s.code == Code::Aborted) => Err(Failure::Conflict(e)),
        Err(e) => Err(Failure::Other(
            anyhow::Error::new(e).context(format!("writing the IAM policy of {resource}")),
        )),
    }
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

//! Reading the policies that should hold the manifest's grants, each once: what `plan`
//! compares and what doctor checks, by the same rule (`holds`) that `ensure` writes by.

use google_cloud_iam_v1::model::Policy;

use super::{by_resource, holds, Api, Grant, PolicyClients};
use crate::store::progress;

/// One policy as read, with the grants it should hold.
pub struct PolicyRead<'g> {
    pub api: Api,
    pub resource: &'g str,
    pub grants: Vec<&'g Grant>,
    pub policy: google_cloud_gax::Result<Policy>,
}

impl<'g> PolicyRead<'g> {
    /// Each grant with whether the policy holds it, or why the policy could not be read.
    pub fn held(
        &self,
    ) -> impl Iterator<Item = (&'g Grant, Result<bool, &google_cloud_gax::error::Error>)> + '_ {
        self.grants.iter().map(move |g| {
            let held = self.policy.as_ref().map(|p| holds(p, g));
            (*g, held)
        })
    }
}

/// Reads every policy holding one of `grants`, one read per policy (several grants on one
/// resource share it), in order of first appearance. Changes nothing.
pub async fn read_policies<'g>(
    clients: &PolicyClients,
    grants: impl IntoIterator<Item = &'g Grant>,
) -> Vec<PolicyRead<'g>> {
    progress(format_args!("reading IAM policies"));
    let mut out = Vec::new();
    for (api, resource, grants) in by_resource(grants) {
        let policy = clients.for_api(api).get(resource).await;
        out.push(PolicyRead {
            api,
            resource,
            grants,
            policy,
        });
    }
    out
}

//! IAM grants the plumbing needs, as read-modify-write of resource policies with the etag,
//! retried when a concurrent writer makes the write fail with ABORTED.
//!
//! Four APIs hold the policies (`clients`): Pub/Sub topics and subscriptions (the IAM mixin
//! on the Pub/Sub crate's `SchemaService` client), Cloud Run services, service accounts
//! (`google-cloud-iam-admin-v1`) and the project (`google-cloud-resourcemanager-v3`).
//! `read` reads them for `plan` (one `iam-grant` line per grant: create or unchanged,
//! never delete: nothing is revoked) and for `doctor::google`; `ensure` writes them, by the
//! same rule for what counts as held. The one exception is `sole`: a role only some members
//! may hold (the budget topic's publishers), which `apply` takes from everyone else.

mod clients;
mod ensure;
mod plan;
mod read;
mod sole;

use std::collections::HashSet;

use serde::Serialize;

pub use clients::{PolicyApi, PolicyClients, POLICY_VERSION};
pub use ensure::{
    ensure, ensure_all, ensure_grants, holds, modify, FIRST_RETRY_DELAY, MAX_ATTEMPTS,
};
pub use plan::{apply, plan, KIND};
pub use read::{read_policies, PolicyRead};
pub use sole::{plan_revokes, revoke, Sole, BILLING_PUBLISHER, PUBLISHER};

use crate::desired::{dead_letter_topic, push_subscription};
use crate::manifest::Manifest;

/// Lets the Pub/Sub service agent mint the push account's OIDC tokens.
pub const TOKEN_CREATOR: &str = "roles/iam.serviceAccountTokenCreator";

/// Which API holds the resource's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// Topics and subscriptions.
    Pubsub,
    /// Cloud Run services.
    CloudRun,
    /// Service accounts (IAM admin API).
    Iam,
    /// The project (Resource Manager).
    ResourceManager,
}

impl Api {
    /// What breaks while a grant on this API's resources is missing (doctor's hint).
    pub fn without_it(self) -> &'static str {
        match self {
            Api::Pubsub => "dead-lettering fails without it",
            Api::CloudRun => "Cloud Run refuses Pub/Sub's pushes (403) without it",
            Api::Iam => "Pub/Sub cannot mint the push OIDC token without it",
            Api::ResourceManager => "the service's task fails without it",
        }
    }
}

/// `member` gets `role` on `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Grant {
    pub api: Api,
    pub resource: String,
    pub role: String,
    pub member: String,
}

impl Grant {
    /// Its name in the plan: `RESOURCE ROLE MEMBER` (none of the three contains a space).
    pub fn name(&self) -> String {
        format!("{} {} {}", self.resource, self.role, self.member)
    }
}

/// Every grant the manifest implies (google mode), each once, in manifest order.
pub fn grants(manifest: &Manifest) -> Vec<Grant> {
    let (Some(iam), Some(region)) = (&manifest.iam, &manifest.region) else {
        return vec![];
    };
    let p = &manifest.project;
    let agent = format!("serviceAccount:{}", iam.pubsub_service_agent);
    let grant = |api, resource: String, role: &str, member: &str| Grant {
        api,
        resource,
        role: role.to_owned(),
        member: member.to_owned(),
    };
    let mut out = Vec::new();
    for s in &manifest.services {
        // Dead-lettering needs the service agent to publish to the DLQ and to ack the source.
        let dlq = format!("projects/{p}/topics/{}", dead_letter_topic(&s.name));
        out.push(grant(Api::Pubsub, dlq, "roles/pubsub.publisher", &agent));
        for topic in &s.topics {
            let sub = format!(
                "projects/{p}/subscriptions/{}",
                push_subscription(&s.name, topic)
            );
            out.push(grant(Api::Pubsub, sub, "roles/pubsub.subscriber", &agent));
        }
        if let Some(account) = s.oidc.as_ref().and_then(|o| o.service_account.as_deref()) {
            // Pub/Sub signs each push's token as the push account, acting as its agent.
            let resource = service_account_resource(account);
            out.push(grant(Api::Iam, resource, TOKEN_CREATOR, &agent));
            let service = s.cloud_run_service.as_deref().unwrap_or(&s.name);
            let run = format!("projects/{p}/locations/{region}/services/{service}");
            let pusher = format!("serviceAccount:{account}");
            out.push(grant(Api::CloudRun, run, "roles/run.invoker", &pusher));
        }
        if let Some(runtime) = &s.runtime_account {
            let member = format!("serviceAccount:{runtime}");
            for role in &s.roles {
                let project = format!("projects/{p}");
                out.push(grant(Api::ResourceManager, project, role, &member));
            }
        }
    }
    // Cloud Billing (and the manifest's own publishers) publish to the budget topic.
    out.extend(Sole::of_manifest(manifest).iter().flat_map(Sole::grants));
    // Services share the push account (and may share roles): one grant each.
    let mut seen = HashSet::new();
    out.retain(|g| seen.insert(g.clone()));
    out
}

/// The IAM resource name of a service account. A user-managed account's email names its
/// project (`NAME@PROJECT.iam.gserviceaccount.com`), which the API prefers; others (e.g.
/// `N-compute@developer.gserviceaccount.com`) go through the `-` wildcard, which finds the
/// owning project from the email.
pub fn service_account_resource(email: &str) -> String {
    let project = email
        .split_once('@')
        .and_then(|(_, domain)| domain.strip_suffix(".iam.gserviceaccount.com"))
        .filter(|p| !p.is_empty())
        .unwrap_or("-");
    format!("projects/{project}/serviceAccounts/{email}")
}

/// `grants` grouped by the policy that holds them, in order of first appearance, so each
/// policy is read (and written) once.
pub fn by_resource<'g>(
    grants: impl IntoIterator<Item = &'g Grant>,
) -> Vec<(Api, &'g str, Vec<&'g Grant>)> {
    let mut out: Vec<(Api, &str, Vec<&Grant>)> = Vec::new();
    for g in grants {
        match out
            .iter_mut()
            .find(|(api, resource, _)| *api == g.api && *resource == g.resource)
        {
            Some((_, _, group)) => group.push(g),
            None => out.push((g.api, &g.resource, vec![g])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_resource_names_the_owning_project() {
        assert_eq!(
            service_account_resource("push@acme-prod.iam.gserviceaccount.com"),
            "projects/acme-prod/serviceAccounts/push@acme-prod.iam.gserviceaccount.com"
        );
        assert_eq!(
            service_account_resource("123-compute@developer.gserviceaccount.com"),
            "projects/-/serviceAccounts/123-compute@developer.gserviceaccount.com"
        );
    }

    #[test]
    fn by_resource_keeps_first_appearance_order() {
        let g = |api, resource: &str, role: &str| Grant {
            api,
            resource: resource.into(),
            role: role.into(),
            member: "user:a@example.com".into(),
        };
        let grants = [
            g(Api::ResourceManager, "projects/p", "roles/a"),
            g(Api::Pubsub, "projects/p/topics/t", "roles/b"),
            g(Api::ResourceManager, "projects/p", "roles/c"),
        ];
        let groups = by_resource(&grants);
        let shape: Vec<(Api, &str, Vec<&str>)> = groups
            .iter()
            .map(|(api, r, gs)| (*api, *r, gs.iter().map(|g| g.role.as_str()).collect()))
            .collect();
        assert_eq!(
            shape,
            [
                (
                    Api::ResourceManager,
                    "projects/p",
                    vec!["roles/a", "roles/c"]
                ),
                (Api::Pubsub, "projects/p/topics/t", vec!["roles/b"]),
            ]
        );
    }
}

//! plan / apply / destroy over every resource kind, in dependency order: topics before the
//! subscriptions that name them (as topic or dead-letter topic), deletions in reverse, IAM
//! grants last (some are on the topics and subscriptions just created). Grants are only
//! ever added: `destroy` and a role leaving the manifest revoke nothing. The exception is
//! the budget topic's publisher role, taken from everyone the manifest does not name.

use std::sync::Arc;

use events::labels::{MANAGED_BY, MANAGED_BY_VALUE};

use crate::budgets::BudgetSpec;
use crate::desired::{SubscriptionSpec, TopicSpec};
use crate::iam::{self, Grant, PolicyClients, Sole};
use crate::manifest::Manifest;
use crate::plan::{self, Action, Change};
use crate::scheduler::cloud::JobSpec;
use crate::store::{apply_deletes, apply_upserts, progress, Store};

/// The live state, one store per kind. Scheduler, budgets and IAM exist on Google Cloud only.
#[derive(Clone)]
pub struct Stores {
    pub topics: Arc<dyn Store<TopicSpec>>,
    pub subscriptions: Arc<dyn Store<SubscriptionSpec>>,
    pub jobs: Option<Arc<dyn Store<JobSpec>>>,
    pub budgets: Option<Arc<dyn Store<BudgetSpec>>>,
    /// The clients holding the policies of `Desired::grants`.
    pub iam: Option<Arc<PolicyClients>>,
}

/// The manifest as specs, one list per kind.
#[derive(Debug, Clone)]
pub struct Desired {
    pub topics: Vec<TopicSpec>,
    pub subscriptions: Vec<SubscriptionSpec>,
    pub jobs: Vec<JobSpec>,
    pub budgets: Vec<BudgetSpec>,
    pub grants: Vec<Grant>,
    /// Roles only some members may hold (the budget topic's publishers): everyone else is
    /// removed.
    pub sole: Vec<Sole>,
}

impl Desired {
    /// Everything `manifest` asks for.
    pub fn from_manifest(manifest: &Manifest) -> anyhow::Result<Self> {
        let pubsub = manifest.desired_pubsub();
        Ok(Self {
            topics: pubsub.topics,
            subscriptions: pubsub.subscriptions,
            jobs: crate::scheduler::cloud::desired_jobs(manifest)?,
            budgets: crate::budgets::desired_budgets(manifest)?,
            grants: iam::grants(manifest),
            sole: Sole::of_manifest(manifest).into_iter().collect(),
        })
    }

    /// Nothing: what `destroy` converges to.
    pub fn empty() -> Self {
        Self {
            topics: vec![],
            subscriptions: vec![],
            jobs: vec![],
            budgets: vec![],
            grants: vec![],
            sole: vec![],
        }
    }
}

/// Reads the live state and compares; changes nothing.
pub async fn plan(desired: &Desired, stores: &Stores) -> anyhow::Result<Vec<Change>> {
    progress(format_args!("reading topics"));
    let mut changes = plan::diff(&desired.topics, &stores.topics.list().await?);
    progress(format_args!("reading subscriptions"));
    changes.extend(plan::diff(
        &desired.subscriptions,
        &stores.subscriptions.list().await?,
    ));
    if let Some(jobs) = &stores.jobs {
        progress(format_args!("reading scheduler jobs"));
        changes.extend(plan::diff(&desired.jobs, &jobs.list().await?));
    }
    if let Some(budgets) = &stores.budgets {
        progress(format_args!("reading budgets"));
        changes.extend(plan::diff(&desired.budgets, &budgets.list().await?));
    }
    if let (Some(clients), false) = (&stores.iam, desired.grants.is_empty()) {
        changes.extend(iam::plan(clients, &desired.grants).await?);
    }
    if let (Some(clients), false) = (&stores.iam, desired.sole.is_empty()) {
        changes.extend(iam::plan_revokes(clients, &desired.sole).await?);
    }
    Ok(changes)
}

/// The command-line flag that allows destructive re-creates.
pub const ALLOW_RECREATE_FLAG: &str = "--allow-recreate";

/// What apply may do beyond creating, updating in place and deleting its own resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow {
    /// Delete and re-create resources planned as [`Action::Recreate`] (losing their backlog).
    pub recreate: bool,
}

/// Refuses the whole plan, before anything changes, when it names a resource that is not ours
/// or a re-create that `allow` does not permit. The error names every such resource.
pub fn check(changes: &[Change], allow: Allow) -> anyhow::Result<()> {
    let names = |f: fn(&Action) -> bool| {
        changes
            .iter()
            .filter(|c| f(&c.action))
            .map(|c| format!("{} {}", c.kind, c.name))
            .collect::<Vec<_>>()
    };
    let foreign = names(|a| matches!(a, Action::Refused { .. }));
    anyhow::ensure!(
        foreign.is_empty(),
        "refusing to apply: {} exist(s) without {MANAGED_BY}={MANAGED_BY_VALUE}; groundskeeper \
         never changes or deletes what is not its own (rename ours in the manifest, or remove \
         or label theirs by hand)",
        foreign.join(", ")
    );
    let recreate = names(|a| matches!(a, Action::Recreate { .. }));
    anyhow::ensure!(
        allow.recreate || recreate.is_empty(),
        "refusing to apply: {} must be deleted and re-created, losing the backlog of \
         unacknowledged messages; run apply with {ALLOW_RECREATE_FLAG} to do it",
        recreate.join(", ")
    );
    Ok(())
}

/// Carries out `changes` (from [`plan`] with the same `desired`); refuses foreign resources
/// and re-creates (see [`check`]).
pub async fn apply(desired: &Desired, stores: &Stores, changes: &[Change]) -> anyhow::Result<()> {
    apply_allowing(desired, stores, changes, Allow::default()).await
}

/// [`apply`], with the destructive actions `allow` permits.
pub async fn apply_allowing(
    desired: &Desired,
    stores: &Stores,
    changes: &[Change],
    allow: Allow,
) -> anyhow::Result<()> {
    check(changes, allow)?;
    apply_upserts(stores.topics.as_ref(), &desired.topics, changes).await?;
    apply_upserts(
        stores.subscriptions.as_ref(),
        &desired.subscriptions,
        changes,
    )
    .await?;
    if let Some(jobs) = &stores.jobs {
        apply_upserts(jobs.as_ref(), &desired.jobs, changes).await?;
        apply_deletes(jobs.as_ref(), changes).await?;
    }
    if let Some(budgets) = &stores.budgets {
        apply_upserts(budgets.as_ref(), &desired.budgets, changes).await?;
        apply_deletes(budgets.as_ref(), changes).await?;
    }
    apply_deletes(stores.subscriptions.as_ref(), changes).await?;
    apply_deletes(stores.topics.as_ref(), changes).await?;
    if let Some(clients) = &stores.iam {
        iam::apply(clients, &desired.grants, changes).await?;
        // After the grants: Cloud Billing can publish before anyone else stops being able to.
        iam::revoke(clients, &desired.sole, changes).await?;
    }
    Ok(())
}

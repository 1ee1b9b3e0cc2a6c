//! Topic and subscription stores that hold nothing and refuse every change, for tests about
//! the other kinds (budgets, IAM grants) run through `converge`.
#![allow(dead_code)] // each test binary uses part of it

use std::sync::Arc;

use infra_bootstrap::converge::Stores;
use infra_bootstrap::desired::{SubscriptionSpec, TopicSpec};
use infra_bootstrap::plan::Spec;
use infra_bootstrap::store::Store;

struct Nothing;

#[async_trait::async_trait]
impl<S: Spec> Store<S> for Nothing {
    async fn list(&self) -> anyhow::Result<Vec<S>> {
        Ok(vec![])
    }
    async fn create(&self, _: &S) -> anyhow::Result<()> {
        anyhow::bail!("unexpected create")
    }
    async fn update(&self, _: &S, _: &[&'static str]) -> anyhow::Result<()> {
        anyhow::bail!("unexpected update")
    }
    async fn delete(&self, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("unexpected delete")
    }
}

/// Empty Pub/Sub stores; no scheduler, budgets or IAM.
pub fn empty_pubsub() -> Stores {
    let topics: Arc<dyn Store<TopicSpec>> = Arc::new(Nothing);
    let subscriptions: Arc<dyn Store<SubscriptionSpec>> = Arc::new(Nothing);
    Stores {
        topics,
        subscriptions,
        jobs: None,
        budgets: None,
        iam: None,
    }
}

//! The local manifest made to fit this stack, and applied with the bootstrap: push
//! endpoints on the ports the services got (the registry's, or free ones), only the services
//! the stack runs (the registry's built ones), and a pull
//! subscription on the events topic for the tour (and you) to watch.

use std::collections::BTreeMap;
use std::path::Path;

use crate::converge;
use crate::desired::SubscriptionSpec;
use crate::manifest::Manifest;
use crate::pubsub::PubsubAdmin;
use crate::store::Store;

/// The repository's local manifest, built in so the CLI works from any directory.
pub const LOCAL_MANIFEST: &str = include_str!("../../../manifests/local.toml");

/// The pull subscription on the events topic. Not in the manifest (the bootstrap has no
/// notion of a watcher) and not labelled managed-by, so `apply` and `destroy` leave it be.
pub const WATCH_SUBSCRIPTION: &str = "groundskeeper-events-watch";

/// The local manifest with each service's push endpoint at `urls[service]` (the services
/// the stack runs: the registry's built ones); services it does not run are dropped with
/// their jobs. A running service the manifest lacks is an error naming it: it would get no
/// subscription and never be called.
pub fn local_manifest(urls: &BTreeMap<String, String>) -> anyhow::Result<Manifest> {
    let mut manifest = Manifest::parse(LOCAL_MANIFEST)?;
    let missing: Vec<&str> = urls
        .keys()
        .filter(|name| manifest.service(name).is_none())
        .map(String::as_str)
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "the local manifest (infra-bootstrap/manifests/local.toml) has no [[service]] for {}",
        missing.join(", ")
    );
    manifest.services.retain(|s| urls.contains_key(&s.name));
    for service in &mut manifest.services {
        if let Some(url) = urls.get(&service.name) {
            service.push_endpoint.clone_from(url);
        }
    }
    manifest.jobs.retain(|j| urls.contains_key(&j.service));
    // Through the text again: what the scheduler will read is checked like any manifest.
    Ok(Manifest::parse(&toml::to_string_pretty(&manifest)?)?)
}

/// Applies `manifest` on the emulator, creates the watch subscription, and writes the
/// manifest to `file` for the scheduler and for `infra-bootstrap --manifest`.
pub async fn apply(manifest: &Manifest, emulator_host: &str, file: &Path) -> anyhow::Result<()> {
    std::fs::write(file, toml::to_string_pretty(manifest)?)?;
    let (desired, stores) = crate::cli::connect(manifest, Some(emulator_host)).await?;
    let changes = converge::plan(&desired, &stores).await?;
    converge::apply(&desired, &stores, &changes).await?;
    let admin = PubsubAdmin::connect(&manifest.project, Some(emulator_host)).await?;
    let watch = SubscriptionSpec {
        name: WATCH_SUBSCRIPTION.to_owned(),
        topic: manifest.events_topic.clone(),
        push_endpoint: None,
        oidc: None,
        ack_deadline_secs: 60,
        backoff_secs: None,
        message_retention_secs: 24 * 3600,
        expiration_ttl_secs: None,
        dead_letter: None,
        labels: BTreeMap::new(),
    };
    Store::<SubscriptionSpec>::create(&admin, &watch).await
}

//! doctor against the emulator: each planted trap is found; a healthy stack passes.

use std::sync::Arc;

use infra_bootstrap::cli::connect;
use infra_bootstrap::converge;
use infra_bootstrap::desired::{push_subscription, SubscriptionSpec};
use infra_bootstrap::doctor::{self, Report};
use infra_bootstrap::manifest::Manifest;
use infra_bootstrap::pubsub::PubsubAdmin;
use infra_bootstrap::store::Store;
use shared::backends::publisher::PubsubPublisher;
use testbed::PubsubEmulator;

/// A stand-in for the services' health endpoint, on a free loopback port.
async fn healthz_server() -> String {
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

/// Two services, no jobs or probes (those need the real services), endpoints on `url`.
fn manifest(project: &str, url: &str, down_url: &str) -> Manifest {
    let mut manifest = Manifest::parse(&format!(
        r#"
project = "{project}"
mode = "emulator"
[[service]]
name = "secret-rotator"
topics = ["rotation-due"]
push_endpoint = "{url}"
[[service]]
name = "budget-guard"
topics = ["budget-alerts"]
push_endpoint = "{down_url}"
"#
    ))
    .expect("valid manifest");
    // The stand-ins answer only /healthz: no probes (the registry's need the real services).
    for service in &mut manifest.services {
        service.probe = None;
    }
    manifest
}

async fn applied(emu: &PubsubEmulator, manifest: &Manifest) -> (PubsubAdmin, Report) {
    let (desired, stores) = connect(manifest, Some(&emu.host())).await.expect("connect");
    let changes = converge::plan(&desired, &stores).await.expect("plan");
    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply");
    let admin = PubsubAdmin::connect(emu.project(), Some(&emu.host()))
        .await
        .expect("admin");
    let publisher =
        Arc::new(PubsubPublisher::new(emu.project(), Some(&emu.host())).expect("publisher"));
    let report = doctor::run(manifest, &admin, publisher.clone())
        .await
        .expect("doctor");
    (admin, report)
}

#[tokio::test]
async fn healthy_stack_passes() {
    let emu = PubsubEmulator::start().await;
    let url = healthz_server().await;
    let manifest = manifest(emu.project(), &url, &url);
    let (_, report) = applied(&emu, &manifest).await;
    assert!(report.healthy(), "{}", doctor::table(&report));
    assert!(report.checks.iter().any(|c| c.name
        == "dead-letter topic budget-guard-dead-letter has a subscription"
        && c.ok));
    assert!(report
        .checks
        .iter()
        .any(|c| c.name == "service secret-rotator answers GET /healthz" && c.ok));
}

#[tokio::test]
async fn planted_traps_are_found() {
    let emu = PubsubEmulator::start().await;
    let url = healthz_server().await;
    let down = format!("http://127.0.0.1:{}/", testbed::free_port());
    let manifest = manifest(emu.project(), &url, &down);
    let (admin, _) = applied(&emu, &manifest).await;

    // Trap 1: a subscription that expires when idle (the emulator cannot update an
    // expiration policy, so the trap is a new subscription like ours but expiring).
    let name = push_subscription("secret-rotator", "rotation-due");
    let mut expiring: SubscriptionSpec = admin
        .list_subscriptions()
        .await
        .expect("list")
        .into_iter()
        .find(|s| s.name == name)
        .expect("sub");
    expiring.name = "expiring-sub".into();
    expiring.expiration_ttl_secs = Some(86_400);
    Store::<SubscriptionSpec>::create(&admin, &expiring)
        .await
        .expect("plant expiration");
    // Trap 2: a dead-letter topic nobody reads.
    Store::<SubscriptionSpec>::delete(&admin, "secret-rotator-dead-letter-sub")
        .await
        .expect("plant orphan DLQ");

    let publisher =
        Arc::new(PubsubPublisher::new(emu.project(), Some(&emu.host())).expect("publisher"));
    let report = doctor::run(&manifest, &admin, publisher)
        .await
        .expect("doctor");
    assert!(!report.healthy());
    let mut failures = report.failures();
    failures.sort();
    assert_eq!(
        failures,
        vec![
            "dead-letter topic secret-rotator-dead-letter has a subscription",
            // Trap 3: endpoint down.
            "service budget-guard answers GET /healthz",
            "subscription expiring-sub never expires",
        ],
        "{}",
        doctor::table(&report)
    );
}

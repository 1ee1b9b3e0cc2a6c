//! Preview services through the handler, on the Cloud Run Admin client's stub trait: only
//! this environment's own preview is ever deleted, on every path that removes things
//! (teardown request, TTL sweep, a provisioning that fails and cleans up), with and without
//! a preview image; platform services and other environments' previews receive no delete.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::sync::Arc;

use events::labels::{
    ENVIRONMENT, KIND, KIND_PLATFORM, KIND_PREVIEW, MANAGED_BY, MANAGED_BY_VALUE,
};
use events::platform::PLATFORM_SERVICES;
use shared::{Classify, Disposition, Outcome};
use support::cloud_run::FakeRun;
use support::{Stack, REQUESTED};

const PLATFORM: [(&str, &str); 2] = [(MANAGED_BY, MANAGED_BY_VALUE), (KIND, KIND_PLATFORM)];

/// A stack whose Cloud Run holds every platform service, a platform service `env-plat` and
/// `env-stray`, the preview of environment `other`.
async fn stack() -> (Stack, Arc<FakeRun>) {
    let fake = Arc::new(FakeRun::default());
    for service in PLATFORM_SERVICES {
        fake.put(service, &PLATFORM);
    }
    fake.put("env-plat", &PLATFORM);
    fake.put(
        "env-stray",
        &[
            (MANAGED_BY, MANAGED_BY_VALUE),
            (KIND, KIND_PREVIEW),
            (ENVIRONMENT, "other"),
        ],
    );
    let settings = [("MAX_ENVIRONMENTS_PER_OWNER", "100")];
    (Stack::with_previews(&settings, fake.previews()).await, fake)
}

fn request(name: &str, image: bool) -> serde_json::Value {
    let mut request = support::request(name);
    if image {
        request["service"] =
            serde_json::json!({ "image": "europe-docker.pkg.dev/acme/apps/shop:abc" });
    }
    request
}

fn untouched(fake: &FakeRun) {
    let deleted = fake.deleted();
    assert!(
        deleted
            .iter()
            .all(|id| id != "env-plat" && id != "env-stray"),
        "a foreign service got a delete request: {deleted:?}"
    );
    assert!(deleted
        .iter()
        .all(|id| !PLATFORM_SERVICES.contains(&id.as_str())));
    for id in PLATFORM_SERVICES.iter().chain(&["env-plat", "env-stray"]) {
        assert!(fake.exists(id), "{id} is gone");
    }
}

#[tokio::test]
async fn without_an_image_no_teardown_path_deletes_a_same_named_service() {
    let (stack, fake) = stack().await;
    // Teardown request, TTL sweep: the skipped preview step removes nothing.
    for name in ["plat", "stray"] {
        let r = stack
            .deliver(&format!("{name}-r"), REQUESTED, request(name, false))
            .await;
        assert_eq!(r.unwrap(), Outcome::Done);
        assert_eq!(
            stack
                .teardown_env(&format!("{name}-t"), name)
                .await
                .unwrap(),
            Outcome::Done,
            "{name}"
        );
        assert!(stack.footprint(name).await["row"].starts_with("deleted:{}"));
        untouched(&fake);
    }
    stack
        .deliver("plat-r2", REQUESTED, request("plat", false))
        .await
        .unwrap();
    stack.expire("plat").await;
    assert_eq!(stack.sweep().await.unwrap(), Outcome::Done);
    assert!(stack.footprint("plat").await["row"].starts_with("deleted:{}"));
    untouched(&fake);
    assert!(fake.created.lock().unwrap().is_empty());
}

#[tokio::test]
async fn with_an_image_a_same_named_service_fails_the_request_and_survives_its_cleanup() {
    let (stack, fake) = stack().await;
    for name in ["plat", "stray"] {
        let err = stack
            .deliver(&format!("{name}-r"), REQUESTED, request(name, true))
            .await
            .unwrap_err();
        assert_eq!(err.disposition(), Disposition::Reject, "{name}: {err}");
        assert!(err.to_string().contains("step service"), "{err}");
        let footprint = stack.footprint(name).await;
        assert!(footprint["row"].starts_with("failed:{}"), "{footprint:?}");
        for key in ["roles", "databases", "secrets", "objects"] {
            assert_eq!(footprint[key], "", "{name}: {key} left behind");
        }
        untouched(&fake);
        // A teardown of the failed environment touches nothing either.
        stack
            .teardown_env(&format!("{name}-t"), name)
            .await
            .unwrap();
        untouched(&fake);
    }
    assert_eq!(*fake.created.lock().unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn the_environments_own_preview_is_deleted_by_teardown_and_by_the_sweep() {
    let (stack, fake) = stack().await;
    stack
        .deliver("shop-r", REQUESTED, request("shop", true))
        .await
        .unwrap();
    assert!(fake.exists("env-shop"));
    stack.teardown_env("shop-t", "shop").await.unwrap();
    assert!(!fake.exists("env-shop"));

    stack
        .deliver("cart-r", REQUESTED, request("cart", true))
        .await
        .unwrap();
    stack.expire("cart").await;
    stack.sweep().await.unwrap();
    assert!(!fake.exists("env-cart"));
    assert_eq!(fake.deleted(), ["env-shop", "env-cart"]);
    untouched(&fake);
}

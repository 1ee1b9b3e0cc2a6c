//! Where an environment's objects live, against Cloud Storage (fake-gcs-server) and a local
//! directory: a prefix of the shared store, or a bucket of its own (`ENV_STORAGE=bucket`)
//! that is labelled, survives crashes, is never someone else's, and is gone after teardown.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::collections::BTreeMap;

use env_provisioner::{fault, ProvisionError};
use events::names::EnvName;
use shared::backends::object_store::{
    self, BucketSpec, BucketState, Buckets, Created, GcsBuckets, ObjectStore,
};
use shared::Outcome;
use support::gcs_labels::LabelKeepingGcs;
use support::Stack;
use testbed::FakeGcs;

const PREFIX: &str = "gk-test";
const SHARED: &str = "shared-objects";

/// A provisioner in bucket mode on fake-gcs-server, behind the proxy that keeps labels.
async fn bucket_stack(gcs: &FakeGcs, proxy: &LabelKeepingGcs) -> Stack {
    gcs.create_bucket(SHARED).await;
    let settings = [
        ("ENV_STORAGE", "bucket"),
        ("ENV_BUCKET_PREFIX", PREFIX),
        ("ENV_BUCKET_LOCATION", "EU"),
        ("MAX_ENVIRONMENTS_PER_OWNER", "100"),
    ];
    Stack::on_gcs(&settings, &format!("gs://{SHARED}"), &proxy.endpoint()).await
}

async fn store(gcs: &FakeGcs, bucket: &str) -> std::sync::Arc<dyn ObjectStore> {
    object_store::from_url(&format!("gs://{bucket}"), Some(&gcs.endpoint()))
        .await
        .unwrap()
}

async fn bucket_exists(gcs: &FakeGcs, bucket: &str) -> bool {
    let url = format!("{}/storage/v1/b/{bucket}", gcs.endpoint());
    let status = reqwest::get(&url).await.unwrap().status();
    assert!(status.is_success() || status == 404, "GET {url}: {status}");
    status.is_success()
}

/// The marker object's JSON, without the TTL's timestamp (it differs between runs).
async fn marker(store: &dyn ObjectStore, key: &str) -> Option<serde_json::Value> {
    let bytes = store.get(key).await.unwrap()?;
    let mut marker: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    marker["labels"]
        .as_object_mut()
        .unwrap()
        .remove("expires-at");
    Some(marker)
}

fn without_expiry(mut labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels.remove("expires-at");
    labels
}

/// Everything an environment has in bucket mode, for comparing end states.
async fn footprint(
    stack: &Stack,
    gcs: &FakeGcs,
    proxy: &LabelKeepingGcs,
    name: &str,
) -> BTreeMap<String, String> {
    let bucket = format!("{PREFIX}-{name}");
    let mut footprint = stack.footprint(name).await;
    let exists = bucket_exists(gcs, &bucket).await;
    let (objects, marker) = if exists {
        let store = store(gcs, &bucket).await;
        let keys: Vec<String> = store
            .list("")
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        (
            keys.join(" "),
            marker(store.as_ref(), ".groundskeeper.json").await,
        )
    } else {
        (String::new(), None)
    };
    footprint.insert(
        "bucket".into(),
        format!("{exists}:{:?}", proxy.labels(&bucket).map(without_expiry)),
    );
    footprint.insert("bucket objects".into(), objects);
    footprint.insert(
        "marker".into(),
        marker.map(|m| m.to_string()).unwrap_or_default(),
    );
    footprint
}

#[tokio::test]
async fn prefix_mode_on_cloud_storage_writes_the_marker_under_envs_and_teardown_removes_it() {
    let gcs = FakeGcs::start().await;
    gcs.create_bucket(SHARED).await;
    let url = format!("gs://{SHARED}/groundskeeper");
    let stack = Stack::on_gcs(&[], &url, &gcs.endpoint()).await;
    assert_eq!(
        stack.request_env("r1", "shop").await.unwrap(),
        Outcome::Done
    );

    let ready = &stack.emitted()[0].1;
    assert_eq!(ready["object_prefix"], format!("{url}/envs/shop/"));
    assert_eq!(
        gcs.list_objects(SHARED).await,
        ["groundskeeper/envs/shop/.groundskeeper.json"]
    );
    let marker = marker(
        store(&gcs, SHARED).await.as_ref(),
        "groundskeeper/envs/shop/.groundskeeper.json",
    )
    .await
    .unwrap();
    assert_eq!(marker["environment"], "shop");
    assert_eq!(marker["labels"]["managed-by"], "groundskeeper");
    assert_eq!(marker["labels"]["environment"], "shop");
    assert!(stack.footprint("shop").await["row"].contains(r#""bucket": "skipped""#));

    assert_eq!(
        stack.teardown_env("t1", "shop").await.unwrap(),
        Outcome::Done
    );
    assert!(gcs.list_objects(SHARED).await.is_empty());
}

#[tokio::test]
async fn bucket_mode_gives_each_environment_a_labelled_bucket_that_teardown_deletes() {
    let gcs = FakeGcs::start().await;
    let proxy = LabelKeepingGcs::start(&gcs.endpoint()).await;
    let stack = bucket_stack(&gcs, &proxy).await;
    assert_eq!(
        stack.request_env("r1", "shop").await.unwrap(),
        Outcome::Done
    );

    // The exact bucket insert: name, location, every label, IAM-only access.
    let inserts = proxy.inserts();
    assert_eq!(inserts.len(), 1, "{inserts:?}");
    let insert = &inserts[0];
    assert_eq!(insert["name"], "gk-test-shop");
    assert_eq!(insert["location"], "EU");
    assert_eq!(
        insert["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"],
        true
    );
    assert_eq!(
        insert["iamConfiguration"]["publicAccessPrevention"],
        "enforced"
    );
    let labels = without_expiry(proxy.labels("gk-test-shop").unwrap());
    assert_eq!(
        labels,
        BTreeMap::from([
            ("environment".to_owned(), "shop".to_owned()),
            ("managed-by".to_owned(), "groundskeeper".to_owned()),
            ("owner".to_owned(), "ci_example_com".to_owned()),
            ("tier".to_owned(), "ephemeral".to_owned()),
        ])
    );
    assert!(proxy
        .labels("gk-test-shop")
        .unwrap()
        .contains_key("expires-at"));

    // The marker is at the bucket's top; the shared store is not touched.
    assert_eq!(
        gcs.list_objects("gk-test-shop").await,
        [".groundskeeper.json"]
    );
    assert!(gcs.list_objects(SHARED).await.is_empty());
    let marker = marker(
        store(&gcs, "gk-test-shop").await.as_ref(),
        ".groundskeeper.json",
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_value::<BTreeMap<String, String>>(marker["labels"].clone()).unwrap(),
        labels
    );
    let ready = &stack.emitted()[0].1;
    assert_eq!(ready["object_prefix"], "gs://gk-test-shop/");
    let row = &stack.footprint("shop").await["row"];
    assert!(
        row.contains(r#""bucket": "created""#) && row.contains(r#""objects": "created""#),
        "{row}"
    );

    // Whatever the environment put there goes too.
    store(&gcs, "gk-test-shop")
        .await
        .put("uploads/a.txt", "data".into(), "text/plain")
        .await
        .unwrap();
    assert_eq!(
        stack.teardown_env("t1", "shop").await.unwrap(),
        Outcome::Done
    );
    assert!(
        !bucket_exists(&gcs, "gk-test-shop").await,
        "the bucket is deleted"
    );
    assert!(stack.footprint("shop").await["row"].starts_with("deleted:{}"));
}

#[tokio::test]
async fn a_crash_around_the_bucket_step_is_completed_by_the_redelivery() {
    let gcs = FakeGcs::start().await;
    let proxy = LabelKeepingGcs::start(&gcs.endpoint()).await;
    let stack = bucket_stack(&gcs, &proxy).await;
    stack.request_env("clean-1", "clean").await.unwrap();
    let expected = footprint(&stack, &gcs, &proxy, "clean").await;
    assert!(expected["bucket"].starts_with("true:Some"), "{expected:?}");

    for (i, point) in [
        "bucket:before",
        "bucket:after",
        "objects:before",
        "objects:after",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("crash{i}");
        stack.crash_then_complete(&name, point).await;
        let got = footprint(&stack, &gcs, &proxy, &name).await;
        for (key, want) in &expected {
            assert_eq!(
                got[key],
                want.replace("clean", &name),
                "after a crash at {point}, {key} differs"
            );
        }
    }
}

#[tokio::test]
async fn a_foreign_bucket_under_the_name_fails_provisioning_and_is_left_alone() {
    let gcs = FakeGcs::start().await;
    let proxy = LabelKeepingGcs::start(&gcs.endpoint()).await;
    let stack = bucket_stack(&gcs, &proxy).await;

    // Someone else's bucket, made directly (no labels), before the request.
    gcs.create_bucket("gk-test-taken").await;
    store(&gcs, "gk-test-taken")
        .await
        .put("theirs.txt", "x".into(), "text/plain")
        .await
        .unwrap();
    let err = stack.request_env("r1", "taken").await.unwrap_err();
    let ProvisionError::Failed { step, reason, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*step, "bucket");
    assert!(
        reason.contains("bucket gk-test-taken already exists without the labels managed-by=groundskeeper, environment=taken (it has: none)"),
        "{reason}"
    );
    assert_eq!(
        gcs.list_objects("gk-test-taken").await,
        ["theirs.txt"],
        "untouched"
    );
    let footprint = stack.footprint("taken").await;
    assert!(footprint["row"].starts_with("failed:{}"), "{footprint:?}");
    for what in ["roles", "databases", "secrets"] {
        assert_eq!(footprint[what], "", "the attempt removed its own {what}");
    }
    let failed: Vec<_> = stack
        .emitted()
        .into_iter()
        .filter(|(ty, _)| ty.ends_with("failed.v1"))
        .collect();
    assert_eq!(failed[0].1["step"], "bucket");

    // The name taken between a crash and the redelivery: the attempt had recorded starting
    // the step, yet the bucket is not its own, so its cleanup must leave it too.
    let raced: EnvName = "raced".parse().unwrap();
    fault::arm(&raced, "bucket:before");
    stack.request_env("r2", "raced").await.unwrap_err();
    gcs.create_bucket("gk-test-raced").await;
    store(&gcs, "gk-test-raced")
        .await
        .put("theirs.txt", "x".into(), "text/plain")
        .await
        .unwrap();
    let err = stack.request_env("r3", "raced").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("without the labels managed-by=groundskeeper"),
        "{err}"
    );
    assert_eq!(
        gcs.list_objects("gk-test-raced").await,
        ["theirs.txt"],
        "untouched"
    );
    assert!(stack.footprint("raced").await["row"].starts_with("failed:{}"));
}

#[tokio::test]
async fn bucket_mode_on_a_local_directory_makes_a_directory_beside_the_root() {
    let stack = Stack::start(&[("ENV_STORAGE", "bucket"), ("ENV_BUCKET_PREFIX", PREFIX)]).await;
    assert_eq!(
        stack.request_env("r1", "shop").await.unwrap(),
        Outcome::Done
    );
    let dir = stack.objects_dir();
    let bucket = dir.join("gk-test-shop");
    assert!(bucket.join(".groundskeeper.json").is_file());
    let labels: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".gk-test-shop.bucket.json")).unwrap())
            .unwrap();
    assert_eq!(labels["labels"]["managed-by"], "groundskeeper");
    assert_eq!(labels["labels"]["environment"], "shop");
    assert_eq!(
        stack.emitted()[0].1["object_prefix"],
        format!("file://{}/", bucket.display())
    );

    stack.teardown_env("t1", "shop").await.unwrap();
    assert!(!bucket.exists() && !dir.join(".gk-test-shop.bucket.json").exists());
}

#[tokio::test]
async fn gcs_buckets_keep_their_contract_on_fake_gcs_server() {
    let gcs = FakeGcs::start().await;
    let buckets = GcsBuckets::new("testbed", Some(&gcs.endpoint())).unwrap();
    let spec = BucketSpec {
        name: "gk-contract".into(),
        location: "EU".into(),
        labels: BTreeMap::from([("managed-by".to_owned(), "groundskeeper".to_owned())]),
    };
    assert_eq!(
        buckets.state("gk-contract").await.unwrap(),
        BucketState::Absent
    );
    assert_eq!(buckets.create(&spec).await.unwrap(), Created::New);
    assert_eq!(buckets.create(&spec).await.unwrap(), Created::AlreadyExists);
    assert!(matches!(
        buckets.state("gk-contract").await.unwrap(),
        BucketState::Present { .. }
    ));
    assert_eq!(buckets.url("gk-contract"), "gs://gk-contract/");

    let objects = buckets.store("gk-contract").await.unwrap();
    objects.put("a/b", "x".into(), "text/plain").await.unwrap();
    let err = buckets.delete("gk-contract").await.unwrap_err();
    assert!(
        err.retryable && err.reason.contains("buckets.delete"),
        "{err}"
    );
    objects.delete("a/b").await.unwrap();
    buckets.delete("gk-contract").await.unwrap();
    assert_eq!(
        buckets.state("gk-contract").await.unwrap(),
        BucketState::Absent
    );
    buckets
        .delete("gk-contract")
        .await
        .expect("a missing bucket is deleted already");

    let err = buckets
        .create(&BucketSpec {
            name: "my-google".into(),
            ..spec
        })
        .await
        .unwrap_err();
    assert!(!err.retryable && err.reason.contains("google"), "{err}");
}

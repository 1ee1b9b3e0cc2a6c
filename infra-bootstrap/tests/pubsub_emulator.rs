//! plan / apply / destroy against the real Pub/Sub emulator (one per test).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use infra_bootstrap::cli::connect;
use infra_bootstrap::converge::{self, Desired};
use infra_bootstrap::desired::{
    dead_letter_subscription, push_subscription, SubscriptionSpec, TopicSpec,
};
use infra_bootstrap::manifest::Manifest;
use infra_bootstrap::plan::{Action, Change, FieldDiff};
use infra_bootstrap::pubsub::PubsubAdmin;
use infra_bootstrap::store::Store;
use testbed::PubsubEmulator;

fn local_manifest(project: &str) -> Manifest {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/local.toml"))
            .expect("local.toml");
    let mut manifest = Manifest::parse(&text).expect("local.toml is valid");
    manifest.project = project.to_owned();
    manifest
}

async fn plan(
    manifest: &Manifest,
    emu: &PubsubEmulator,
) -> (Desired, infra_bootstrap::converge::Stores, Vec<Change>) {
    let (desired, stores) = connect(manifest, Some(&emu.host())).await.expect("connect");
    let changes = converge::plan(&desired, &stores).await.expect("plan");
    (desired, stores, changes)
}

fn actions(changes: &[Change]) -> Vec<(&str, &Action)> {
    changes
        .iter()
        .map(|c| (c.name.as_str(), &c.action))
        .collect()
}

#[tokio::test]
async fn apply_creates_everything_with_the_manifest_settings_and_is_idempotent() {
    let emu = PubsubEmulator::start().await;
    let manifest = local_manifest(emu.project());
    let (desired, stores, changes) = plan(&manifest, &emu).await;
    assert!(
        changes.iter().all(|c| c.action == Action::Create),
        "{:?}",
        actions(&changes)
    );
    assert_eq!(
        changes.len(),
        desired.topics.len() + desired.subscriptions.len()
    );
    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply");

    // Read back and compare field by field with what the manifest asked for.
    let admin = PubsubAdmin::connect(emu.project(), Some(&emu.host()))
        .await
        .expect("admin");
    let live_subs = admin
        .list_subscriptions()
        .await
        .expect("list subscriptions");
    for want in &desired.subscriptions {
        let have = live_subs
            .iter()
            .find(|s| s.name == want.name)
            .unwrap_or_else(|| panic!("{} missing", want.name));
        assert_eq!(have, want, "subscription {} differs", want.name);
    }
    let live_topics: Vec<TopicSpec> = Store::<TopicSpec>::list(&admin).await.expect("list topics");
    for want in &desired.topics {
        assert!(
            live_topics.contains(want),
            "topic {} missing or differs: {live_topics:?}",
            want.name
        );
    }
    // Spot-check the settings that matter most, independently of the spec code.
    let push = live_subs
        .iter()
        .find(|s| s.name == push_subscription("secret-rotator", "rotation-due"))
        .expect("push sub");
    assert_eq!(
        push.push_endpoint.as_deref(),
        Some("http://127.0.0.1:8082/")
    );
    assert_eq!(
        push.dead_letter,
        Some(("secret-rotator-dead-letter".to_owned(), 20))
    );
    assert_eq!(push.expiration_ttl_secs, None, "must never expire");
    assert_eq!(
        (push.ack_deadline_secs, push.backoff_secs),
        (60, Some((1, 10)))
    );
    assert!(live_subs
        .iter()
        .any(|s| s.name == "secret-rotator-dead-letter-sub"
            && s.topic == "secret-rotator-dead-letter"));

    let (_, _, again) = plan(&manifest, &emu).await;
    assert!(
        again.iter().all(|c| c.action == Action::Unchanged),
        "second plan: {:?}",
        actions(&again)
    );
}

#[tokio::test]
async fn hand_changed_ack_deadline_is_planned_as_update_and_fixed_by_apply() {
    let emu = PubsubEmulator::start().await;
    let manifest = local_manifest(emu.project());
    let (desired, stores, changes) = plan(&manifest, &emu).await;
    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply");

    let admin = PubsubAdmin::connect(emu.project(), Some(&emu.host()))
        .await
        .expect("admin");
    let name = push_subscription("backup-runner", "backup-window");
    let mut drifted: SubscriptionSpec = desired
        .subscriptions
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .expect("in manifest");
    drifted.ack_deadline_secs = 30;
    Store::<SubscriptionSpec>::update(&admin, &drifted, &["ack_deadline_secs"])
        .await
        .expect("hand change");

    let (desired, stores, changes) = plan(&manifest, &emu).await;
    let drift: Vec<&Change> = changes.iter().filter(|c| c.is_change()).collect();
    assert_eq!(drift.len(), 1, "{:?}", actions(&changes));
    assert_eq!(drift[0].name, name);
    assert_eq!(
        drift[0].action,
        Action::Update {
            diffs: vec![FieldDiff {
                field: "ack_deadline_secs",
                live: "30".into(),
                desired: "60".into()
            }]
        }
    );
    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply fixes drift");
    let (_, _, after) = plan(&manifest, &emu).await;
    assert!(
        after.iter().all(|c| !c.is_change()),
        "{:?}",
        actions(&after)
    );
}

#[tokio::test]
async fn destroy_removes_only_labelled_resources() {
    let emu = PubsubEmulator::start().await;
    let manifest = local_manifest(emu.project());
    let (desired, stores, changes) = plan(&manifest, &emu).await;
    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply");
    emu.create_topic("foreign-topic").await;
    emu.create_pull_subscription("foreign-topic", "foreign-sub")
        .await;

    let nothing = Desired::empty();
    let stores = Arc::new(stores);
    let doomed = converge::plan(&nothing, &stores)
        .await
        .expect("destroy plan");
    assert!(doomed.iter().all(|c| c.action == Action::Delete));
    assert!(
        doomed.iter().all(|c| !c.name.starts_with("foreign")),
        "{:?}",
        actions(&doomed)
    );
    converge::apply(&nothing, &stores, &doomed)
        .await
        .expect("destroy");

    let admin = PubsubAdmin::connect(emu.project(), Some(&emu.host()))
        .await
        .expect("admin");
    let topics: Vec<String> = Store::<TopicSpec>::list(&admin)
        .await
        .expect("topics")
        .into_iter()
        .map(|t| t.name)
        .collect();
    let subs: Vec<String> = admin
        .list_subscriptions()
        .await
        .expect("subs")
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(topics, vec!["foreign-topic".to_owned()]);
    assert_eq!(subs, vec!["foreign-sub".to_owned()]);
}

/// The JSON name of the planned action for `name` (`create`, `refused`, ...).
fn action_name(changes: &[Change], kind: &str, name: &str) -> String {
    let change = changes
        .iter()
        .find(|c| c.kind == kind && c.name == name)
        .unwrap_or_else(|| panic!("no change for {kind} {name}: {:?}", actions(changes)));
    serde_json::to_value(change).expect("json")["action"]
        .as_str()
        .expect("action")
        .to_owned()
}

/// Live topics and subscriptions, as specs, sorted by name.
async fn live(admin: &PubsubAdmin) -> (Vec<TopicSpec>, Vec<SubscriptionSpec>) {
    let mut topics: Vec<TopicSpec> = Store::<TopicSpec>::list(admin).await.expect("topics");
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    let mut subs = admin.list_subscriptions().await.expect("subscriptions");
    subs.sort_by(|a, b| a.name.cmp(&b.name));
    (topics, subs)
}

#[tokio::test]
async fn foreign_topic_and_subscription_named_like_ours_are_refused_and_left_as_they_were() {
    let emu = PubsubEmulator::start().await;
    let manifest = local_manifest(emu.project());
    let admin = PubsubAdmin::connect(emu.project(), Some(&emu.host()))
        .await
        .expect("admin");
    // Someone else's topic and subscription, under the names the manifest gives ours.
    let theirs = BTreeMap::from([("team".to_owned(), "payments".to_owned())]);
    let topic = TopicSpec {
        name: "rotation-due".into(),
        labels: theirs.clone(),
    };
    let sub = SubscriptionSpec {
        name: push_subscription("secret-rotator", "rotation-due"),
        topic: topic.name.clone(),
        push_endpoint: None,
        oidc: None,
        ack_deadline_secs: 15,
        backoff_secs: None,
        message_retention_secs: 3600,
        expiration_ttl_secs: None,
        dead_letter: None,
        labels: theirs,
    };
    Store::<TopicSpec>::create(&admin, &topic)
        .await
        .expect("their topic");
    Store::<SubscriptionSpec>::create(&admin, &sub)
        .await
        .expect("their subscription");
    let before = live(&admin).await;

    let (desired, stores, changes) = plan(&manifest, &emu).await;
    assert_eq!(action_name(&changes, "topic", &topic.name), "refused");
    assert_eq!(action_name(&changes, "subscription", &sub.name), "refused");
    let err = converge::apply(&desired, &stores, &changes)
        .await
        .expect_err("apply must refuse resources that are not ours");
    let err = format!("{err:#}");
    assert!(
        err.contains(&topic.name) && err.contains(&sub.name),
        "{err}"
    );
    // Refused before anything changed: theirs as they were, nothing of ours half-created.
    assert_eq!(live(&admin).await, before);

    let nothing = Desired::empty();
    let doomed = converge::plan(&nothing, &stores)
        .await
        .expect("destroy plan");
    converge::apply(&nothing, &stores, &doomed)
        .await
        .expect("destroy");
    assert_eq!(live(&admin).await, before);
}

#[tokio::test]
async fn a_subscription_on_the_wrong_topic_is_recreated_only_when_allowed_and_keeps_its_backlog_until_then(
) {
    let emu = PubsubEmulator::start().await;
    let manifest = local_manifest(emu.project());
    let (desired, stores, changes) = plan(&manifest, &emu).await;
    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply");
    let admin = PubsubAdmin::connect(emu.project(), Some(&emu.host()))
        .await
        .expect("admin");
    // By hand, our dead-letter subscription was re-made on the events topic, and holds a
    // message there.
    let name = dead_letter_subscription("secret-rotator");
    let mut moved = desired
        .subscriptions
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .expect("in manifest");
    moved.topic.clone_from(&manifest.events_topic);
    Store::<SubscriptionSpec>::delete(&admin, &name)
        .await
        .expect("delete");
    Store::<SubscriptionSpec>::create(&admin, &moved)
        .await
        .expect("re-create on the events topic");
    emu.publish(&manifest.events_topic, b"pending", &BTreeMap::new())
        .await;

    let (desired, stores, changes) = plan(&manifest, &emu).await;
    assert_eq!(action_name(&changes, "subscription", &name), "recreate");
    let table = infra_bootstrap::output::plan_table(&changes);
    assert!(table.contains("backlog"), "{table}");
    let err = converge::apply(&desired, &stores, &changes)
        .await
        .expect_err("a re-create needs permission");
    let err = format!("{err:#}");
    assert!(
        err.contains(&name) && err.contains("--allow-recreate"),
        "{err}"
    );
    let still = admin.list_subscriptions().await.expect("subs");
    let still = still.iter().find(|s| s.name == name).expect("still there");
    assert_eq!(still.topic, manifest.events_topic);
    let backlog = emu.pull(&name, 1, Duration::from_secs(10)).await;
    assert_eq!(backlog.len(), 1, "the backlog is still there");

    // Allowed explicitly, the subscription is re-made on its own topic.
    let (desired, stores, changes) = plan(&manifest, &emu).await;
    let allow = converge::Allow { recreate: true };
    converge::apply_allowing(&desired, &stores, &changes, allow)
        .await
        .expect("allowed re-create");
    let (_, _, after) = plan(&manifest, &emu).await;
    assert!(
        after.iter().all(|c| !c.is_change()),
        "{:?}",
        actions(&after)
    );
}

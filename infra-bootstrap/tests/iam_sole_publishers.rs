//! The budget topic's publishers (issue 13, "Authenticity"): `plan` shows one `delete
//! iam-grant` line per member holding `roles/pubsub.publisher` on it besides Cloud Billing's
//! account and `[budgets] publishers`, conditional bindings included; `apply` writes exactly
//! the policy that leaves the role to those alone and every other role as read; `doctor`
//! fails naming the others. Through the policy clients' stubs, as the other IAM tests.

#[path = "support/empty_stores.rs"]
mod empty_stores;
#[path = "support/policies.rs"]
mod policies;

use std::sync::Arc;

use google_cloud_iam_v1::model::Binding;
use infra_bootstrap::converge::{self, Desired, Stores};
use infra_bootstrap::doctor::google::sole_checks;
use infra_bootstrap::iam::{grants, Api, Sole, BILLING_PUBLISHER, PUBLISHER};
use infra_bootstrap::manifest::Manifest;
use infra_bootstrap::output::plan_table;
use infra_bootstrap::plan::{Action, Change};
use policies::{conditional, production, write, FakePolicies};

const TOPIC: &str = "projects/acme-platform-prod/topics/budget-alerts";
const REPLAY: &str = "serviceAccount:replay@acme-platform-prod.iam.gserviceaccount.com";
const MALLORY: &str = "user:mallory@example.com";
const OLD: &str = "serviceAccount:old-capper@acme-platform-prod.iam.gserviceaccount.com";
const EVE: &str = "user:eve@example.com";

fn manifest() -> Manifest {
    let mut m = production();
    m.budgets.as_mut().expect("[budgets]").publishers = vec![REPLAY.to_owned()];
    m
}

fn desired(m: &Manifest) -> Desired {
    Desired {
        grants: grants(m),
        sole: Sole::of_manifest(m).into_iter().collect(),
        ..Desired::empty()
    }
}

fn stores(fake: &Arc<FakePolicies>) -> Stores {
    Stores {
        iam: Some(Arc::new(fake.clients())),
        ..empty_stores::empty_pubsub()
    }
}

fn publishers(members: &[&str]) -> Binding {
    Binding::new()
        .set_role(PUBLISHER)
        .set_members(members.iter().copied())
}

fn viewer() -> Binding {
    Binding::new()
        .set_role("roles/pubsub.viewer")
        .set_members([MALLORY])
}

/// The topic as someone left it: Cloud Billing, two other publishers, one more under a
/// condition, and another role of one of them.
fn seeded() -> Arc<FakePolicies> {
    let fake = FakePolicies::new();
    let bindings = vec![
        publishers(&[MALLORY, BILLING_PUBLISHER, OLD]),
        conditional(
            PUBLISHER,
            EVE,
            "request.time < timestamp('2030-01-01T00:00:00Z')",
        ),
        viewer(),
    ];
    fake.seed(TOPIC, bindings);
    fake
}

fn line(member: &str, action: Action) -> Change {
    Change {
        kind: "iam-grant",
        name: format!("{TOPIC} {PUBLISHER} {member}"),
        action,
    }
}

fn on_topic(changes: &[Change]) -> Vec<Change> {
    let prefix = format!("{TOPIC} ");
    changes
        .iter()
        .filter(|c| c.name.starts_with(&prefix))
        .cloned()
        .collect()
}

#[tokio::test]
async fn apply_leaves_publishing_to_cloud_billing_and_the_manifest_s_publishers_alone() {
    let m = manifest();
    let (fake, desired) = (seeded(), desired(&m));
    let stores = stores(&fake);
    let changes = converge::plan(&desired, &stores).await.expect("plan");
    assert_eq!(
        on_topic(&changes),
        [
            line(BILLING_PUBLISHER, Action::Unchanged),
            line(REPLAY, Action::Create),
            line(MALLORY, Action::Delete),
            line(OLD, Action::Delete),
            line(EVE, Action::Delete),
        ]
    );
    let table = plan_table(&changes);
    assert!(
        table.contains(&format!(
            "delete     iam-grant {TOPIC} {PUBLISHER} {MALLORY}"
        )),
        "each removal is in the plan output:\n{table}"
    );
    assert_eq!(fake.all_sets(), 0, "plan writes nothing");

    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply");
    let topic_writes: Vec<_> = fake
        .sets(Api::Pubsub)
        .into_iter()
        .filter(|w| w.resource == TOPIC)
        .collect();
    let eve = conditional(
        PUBLISHER,
        EVE,
        "request.time < timestamp('2030-01-01T00:00:00Z')",
    );
    assert_eq!(
        topic_writes,
        [
            // The grant first, so Cloud Billing's publishing never has a gap ...
            write(
                TOPIC,
                1,
                vec![
                    publishers(&[MALLORY, BILLING_PUBLISHER, OLD, REPLAY]),
                    eve,
                    viewer()
                ]
            ),
            // ... then everyone else out; the binding left empty goes, other roles stay.
            write(
                TOPIC,
                2,
                vec![publishers(&[BILLING_PUBLISHER, REPLAY]), viewer()]
            ),
        ]
    );

    let again = converge::plan(&desired, &stores).await.expect("plan");
    assert!(
        on_topic(&again)
            .iter()
            .all(|c| c.action == Action::Unchanged),
        "{again:#?}"
    );
}

#[tokio::test]
async fn doctor_fails_while_anyone_else_may_publish_to_the_budget_topic() {
    let m = manifest();
    let fake = seeded();
    let checks = sole_checks(&m, &fake.clients()).await;
    assert_eq!(checks.len(), 1, "{checks:#?}");
    assert!(!checks[0].ok);
    for other in [MALLORY, OLD, EVE] {
        assert!(checks[0].detail.contains(other), "{}", checks[0].detail);
    }
    assert!(!checks[0].detail.contains(REPLAY), "{}", checks[0].detail);

    let desired = desired(&m);
    let stores = stores(&fake);
    let changes = converge::plan(&desired, &stores).await.expect("plan");
    converge::apply(&desired, &stores, &changes)
        .await
        .expect("apply");
    let checks = sole_checks(&m, &fake.clients()).await;
    assert!(checks[0].ok, "{checks:#?}");
}

#[test]
fn publishers_are_service_accounts_each_named_once() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/production.example.toml"
    ))
    .expect("read");
    // Uncommented, with `extra` listed first.
    let with =
        |extra: &str| text.replacen("# publishers = [", &format!("publishers = [{extra}"), 1);
    let example = Manifest::parse(&with("")).expect("the commented example is valid");
    let listed = &example.budgets.expect("[budgets]").publishers;
    assert_eq!(listed.len(), 1, "{listed:?}");
    for bad in [
        r#""allUsers", "#,
        r#""user:alice@example.com", "#,
        r#""domain:example.com", "#,
        r#""serviceAccount:not-an-email", "#,
        r#""serviceAccount:budget-replay@acme-platform-prod.iam.gserviceaccount.com", "#,
    ] {
        let err = Manifest::parse(&with(bad)).expect_err(bad).to_string();
        assert!(err.contains("budgets.publishers"), "{bad}: {err}");
    }
}

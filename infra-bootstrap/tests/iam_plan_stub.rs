//! The production example's IAM grants in `plan` and `apply` (through `converge`, as the
//! CLI runs them) against the four policy clients' stubs: one `iam-grant` line per grant,
//! create when the policy lacks the unconditional binding and unchanged when it holds it,
//! each policy read once and nothing written by plan; apply adds what plan showed and a
//! second round adds nothing. On the emulator there are no IAM lines.

#[path = "support/empty_stores.rs"]
mod empty_stores;
#[path = "support/policies.rs"]
mod policies;

use std::sync::Arc;

use google_cloud_gax::error::rpc::Code;
use infra_bootstrap::converge::{self, Desired, Stores};
use infra_bootstrap::iam::{self, by_resource, grants, Api, Grant, PolicyClients};
use infra_bootstrap::manifest::Manifest;
use infra_bootstrap::output::plan_table;
use infra_bootstrap::plan::{Action, Change};
use policies::{production, FakePolicies};

/// Only the manifest's grants (the Pub/Sub kinds are tested on the emulator).
fn desired(m: &Manifest) -> Desired {
    Desired {
        grants: grants(m),
        ..Desired::empty()
    }
}

fn stores(fake: &Arc<FakePolicies>) -> Stores {
    Stores {
        iam: Some(Arc::new(fake.clients())),
        ..empty_stores::empty_pubsub()
    }
}

fn line(g: &Grant, action: Action) -> Change {
    Change {
        kind: "iam-grant",
        name: format!("{} {} {}", g.resource, g.role, g.member),
        action,
    }
}

/// The expected plan: every grant, grouped by the policy holding it (policies in order of
/// first appearance in the manifest), `create` for those in `missing`.
fn expected(m: &Manifest, missing: &[&Grant]) -> Vec<Change> {
    let all = grants(m);
    by_resource(&all)
        .into_iter()
        .flat_map(|(_, _, group)| group)
        .map(|g| {
            let action = if missing.contains(&g) {
                Action::Create
            } else {
                Action::Unchanged
            };
            line(g, action)
        })
        .collect()
}

fn reads(fake: &FakePolicies) -> Vec<String> {
    [Api::Pubsub, Api::CloudRun, Api::Iam, Api::ResourceManager]
        .into_iter()
        .flat_map(|api| fake.gets(api))
        .map(|r| r.resource)
        .collect()
}

#[tokio::test]
async fn fresh_project_plans_every_grant_as_create_and_writes_nothing() {
    let m = production();
    let fake = FakePolicies::new();
    let changes = plan(&m, &fake).await;

    let all = grants(&m);
    assert_eq!(changes, expected(&m, &all.iter().collect::<Vec<_>>()));
    assert_eq!(fake.all_sets(), 0, "no set_iam_policy call at all");
    let mut read = reads(&fake);
    read.sort();
    let mut policies: Vec<&str> = by_resource(&all).into_iter().map(|(_, r, _)| r).collect();
    policies.sort();
    assert_eq!(read, policies, "each policy read once");
    assert!(all.len() > policies.len(), "the example shares policies");
}

/// The plan of `m`'s grants against `fake`, which it must not write to.
async fn plan(m: &Manifest, fake: &Arc<FakePolicies>) -> Vec<Change> {
    let writes = fake.all_sets();
    let changes = converge::plan(&desired(m), &stores(fake))
        .await
        .expect("plan");
    assert_eq!(fake.all_sets(), writes, "plan never calls set_iam_policy");
    changes
}

/// `m`'s grant on `api`, the first of them.
fn first(all: &[Grant], api: Api) -> &Grant {
    all.iter().find(|g| g.api == api).expect("grant")
}

#[tokio::test]
async fn held_grants_are_unchanged_and_a_revoked_one_is_create() {
    let m = production();
    let fake = FakePolicies::granted(&m).await;
    let all = grants(&m);
    let token_creator = first(&all, Api::Iam);
    fake.revoke(
        &token_creator.resource,
        &token_creator.role,
        &token_creator.member,
    );

    let changes = plan(&m, &fake).await;
    assert_eq!(changes, expected(&m, &[token_creator]));

    let table = plan_table(&changes);
    let name = line(token_creator, Action::Create).name;
    assert!(
        table.contains(&format!("create     iam-grant {name}")),
        "{table}"
    );
    let totals = format!(
        "1 to create, 0 to update, 0 to delete, {} unchanged",
        all.len() - 1
    );
    assert!(table.contains(&totals), "{table}");
    assert!(table.contains("never revokes"), "{table}");
    let json = serde_json::to_value(&changes).expect("json");
    let created: Vec<&serde_json::Value> = json
        .as_array()
        .expect("array")
        .iter()
        .filter(|c| c["action"] == "create")
        .collect();
    assert_eq!(
        created,
        [&serde_json::json!({"kind": "iam-grant", "name": name, "action": "create"})]
    );
}

#[tokio::test]
async fn a_conditional_binding_does_not_count_as_held() {
    let m = production();
    let fake = FakePolicies::granted(&m).await;
    let all = grants(&m);
    let g = first(&all, Api::ResourceManager);
    fake.make_conditional(g, "request.time.getHours('UTC') < 6");
    assert_eq!(plan(&m, &fake).await, expected(&m, &[g]));
}

#[tokio::test]
async fn apply_adds_what_plan_showed_and_a_second_round_adds_nothing() {
    let m = production();
    let fake = FakePolicies::granted(&m).await;
    let all = grants(&m);
    let missing: Vec<&Grant> = all
        .iter()
        .filter(|g| g.api == Api::CloudRun)
        .take(2)
        .collect();
    for g in &missing {
        fake.revoke(&g.resource, &g.role, &g.member);
    }
    let (want, clients) = (desired(&m), fake.clients());
    let writes = fake.all_sets();

    let changes = plan(&m, &fake).await;
    assert_eq!(changes, expected(&m, &missing));
    let added = iam::apply(&clients, &want.grants, &changes)
        .await
        .expect("apply");
    assert_eq!(added, missing, "apply reports the grants it made");
    assert_eq!(fake.all_sets(), writes + missing.len(), "one write each");

    let again = plan(&m, &fake).await;
    assert_eq!(again, expected(&m, &[]), "converged");
    let added = iam::apply(&clients, &want.grants, &again)
        .await
        .expect("second apply");
    assert!(added.is_empty(), "nothing to report: {added:?}");
    assert_eq!(fake.all_sets(), writes + missing.len(), "nothing written");
}

#[tokio::test]
async fn converge_apply_grants_on_a_fresh_project() {
    let m = production();
    let fake = FakePolicies::new();
    let (want, live) = (desired(&m), stores(&fake));
    let changes = converge::plan(&want, &live).await.expect("plan");
    converge::apply(&want, &live, &changes)
        .await
        .expect("apply");

    let all = grants(&m);
    assert_eq!(
        fake.all_sets(),
        by_resource(&all).len(),
        "one write per policy"
    );
    let again = converge::plan(&want, &live).await.expect("second plan");
    assert_eq!(again, expected(&m, &[]));
}

#[tokio::test]
async fn a_policy_not_found_is_create_and_an_unreadable_one_fails_naming_it() {
    let m = production();
    let all = grants(&m);
    // The dead-letter topic is not there yet: apply creates it before granting on it.
    let dlq = first(&all, Api::Pubsub);
    let fake = FakePolicies::granted(&m).await;
    fake.refuse(&dlq.resource, Code::NotFound);
    assert_eq!(plan(&m, &fake).await, expected(&m, &[dlq]));

    let project = first(&all, Api::ResourceManager);
    fake.refuse(&project.resource, Code::PermissionDenied);
    let err = converge::plan(&desired(&m), &stores(&fake))
        .await
        .expect_err("cannot plan what it cannot read");
    let err = format!("{err:#}");
    assert!(err.contains(&project.resource), "{err}");
    assert!(err.contains("getIamPolicy"), "{err}");
}

#[tokio::test]
async fn emulator_mode_has_no_iam_lines() {
    let local = Manifest::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/local.toml"
    )))
    .expect("local manifest");
    let none = PolicyClients::for_manifest(&local, None)
        .await
        .expect("no clients");
    assert!(none.is_none(), "the emulator has no IAM");
    let none = PolicyClients::for_manifest(&production(), Some("127.0.0.1:8085"))
        .await
        .expect("no clients");
    assert!(none.is_none(), "an emulator host means no IAM");

    // Grants in the desired state but no IAM clients (what `cli::connect` builds there).
    let changes = converge::plan(&desired(&production()), &empty_stores::empty_pubsub())
        .await
        .expect("plan");
    assert!(changes.is_empty(), "{changes:?}");
}

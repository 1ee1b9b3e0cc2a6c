//! `ensure_grants` for the production example against the four clients' stubs: each grant
//! goes to the API holding its policy, the push account's token creator once however many
//! services share it, invoker grants surviving a concurrent write, the runtime roles in one
//! write of the project policy, and a second apply writing nothing and reporting no grant.

#[path = "support/policies.rs"]
mod policies;

use google_cloud_iam_v1::model::Binding;
use infra_bootstrap::iam::{by_resource, ensure_grants, grants, Api, Grant, TOKEN_CREATOR};
use policies::{conditional, production, write, FakePolicies};

const PUSH: &str = "gk-pubsub-push@acme-platform-prod.iam.gserviceaccount.com";
const PUSH_RESOURCE: &str = "projects/acme-platform-prod/serviceAccounts/gk-pubsub-push@acme-platform-prod.iam.gserviceaccount.com";

fn of(grants: &[Grant], api: Api) -> Vec<Grant> {
    grants.iter().filter(|g| g.api == api).cloned().collect()
}

fn agent() -> String {
    let m = production();
    format!(
        "serviceAccount:{}",
        m.iam.as_ref().expect("iam").pubsub_service_agent
    )
}

#[test]
fn token_creator_once_per_distinct_push_account() {
    let mut m = production();
    let shared = of(&grants(&m), Api::Iam);
    assert_eq!(
        shared,
        [Grant {
            api: Api::Iam,
            resource: PUSH_RESOURCE.into(),
            role: TOKEN_CREATOR.into(),
            member: agent(),
        }],
        "four services, one push account"
    );

    let other = "gk-budget-push@acme-platform-prod.iam.gserviceaccount.com";
    let budget_guard = m.services.iter_mut().find(|s| s.name == "budget-guard");
    let oidc = budget_guard.expect("service").oidc.as_mut().expect("oidc");
    oidc.service_account = Some(other.into());
    let resources: Vec<String> = of(&grants(&m), Api::Iam)
        .into_iter()
        .map(|g| g.resource)
        .collect();
    assert_eq!(
        resources,
        [
            PUSH_RESOURCE.to_owned(),
            format!("projects/acme-platform-prod/serviceAccounts/{other}")
        ]
    );
}

#[tokio::test]
async fn every_grant_goes_to_its_api_and_a_second_apply_writes_nothing() {
    let m = production();
    let fake = FakePolicies::new();
    let first_run = "projects/acme-platform-prod/locations/europe-west1/services/env-provisioner";
    fake.interfere(first_run, 1);
    let (clients, wanted) = (fake.clients(), grants(&m));
    let added = ensure_grants(&clients, &wanted).await.expect("apply");
    let every: Vec<&Grant> = by_resource(&wanted)
        .into_iter()
        .flat_map(|(_, _, group)| group)
        .collect();
    assert_eq!(added, every, "every grant reported, policy by policy");

    // The push account: one write, the service agent as token creator.
    let token_creator = Binding::new()
        .set_role(TOKEN_CREATOR)
        .set_members([agent()]);
    assert_eq!(
        fake.sets(Api::Iam),
        [write(PUSH_RESOURCE, 1, vec![token_creator])]
    );

    // Cloud Run: one invoker per service, the first retried after a concurrent write.
    let invokers = of(&wanted, Api::CloudRun);
    assert_eq!(invokers.len(), 4, "one per service");
    let invoker = Binding::new()
        .set_role("roles/run.invoker")
        .set_members([format!("serviceAccount:{PUSH}")]);
    let run_sets = fake.sets(Api::CloudRun);
    assert_eq!(run_sets.len(), invokers.len() + 1, "one retry");
    assert_eq!(run_sets[0], write(first_run, 1, vec![invoker.clone()]));
    assert_eq!(run_sets[1], write(first_run, 2, vec![invoker.clone()]));
    for g in &invokers {
        assert_eq!(
            fake.bindings(&g.resource),
            vec![invoker.clone()],
            "{}",
            g.resource
        );
    }

    // Pub/Sub: the dead-lettering grants, one write per resource.
    let pubsub = of(&wanted, Api::Pubsub);
    assert_eq!(fake.sets(Api::Pubsub).len(), pubsub.len());

    // The project: every runtime role in one write, members grouped by role.
    let project_sets = fake.sets(Api::ResourceManager);
    assert_eq!(project_sets.len(), 1, "one read-modify-write");
    let written = project_sets[0].policy.clone().expect("policy");
    for g in of(&wanted, Api::ResourceManager) {
        assert!(
            written.bindings.iter().any(|b| b.role == g.role
                && b.condition.is_none()
                && b.members.contains(&g.member)),
            "{} lacks {}",
            g.role,
            g.member
        );
    }
    let publisher = written
        .bindings
        .iter()
        .find(|b| b.role == "roles/pubsub.publisher")
        .expect("publisher");
    assert_eq!(
        publisher.members.len(),
        4,
        "every runtime account, one binding"
    );

    let writes = fake.all_sets();
    let again = ensure_grants(&clients, &wanted)
        .await
        .expect("second apply");
    assert!(again.is_empty(), "nothing to report: {again:?}");
    assert_eq!(fake.all_sets(), writes, "converged: nothing written");
}

#[tokio::test]
async fn runtime_roles_leave_other_project_bindings_as_read() {
    let mut m = production();
    m.services.truncate(2);
    m.services[0].roles = vec!["roles/cloudsql.client".into(), "roles/run.developer".into()];
    m.services[1].roles = vec!["roles/cloudsql.client".into()];
    let a = format!(
        "serviceAccount:{}",
        m.services[0].runtime_account.as_deref().expect("runtime")
    );
    let b = format!(
        "serviceAccount:{}",
        m.services[1].runtime_account.as_deref().expect("runtime")
    );
    let project = "projects/acme-platform-prod";
    let fake = FakePolicies::new();
    let owner = Binding::new()
        .set_role("roles/owner")
        .set_members(["user:admin@example.com"]);
    let office_hours = conditional(
        "roles/cloudsql.client",
        &a,
        "request.time.getHours('Europe/Brussels') < 18",
    );
    fake.seed(project, vec![owner.clone(), office_hours.clone()]);
    ensure_grants(&fake.clients(), &grants(&m))
        .await
        .expect("apply");

    let bindings = vec![
        owner,
        office_hours,
        Binding::new()
            .set_role("roles/cloudsql.client")
            .set_members([a.clone(), b]),
        Binding::new()
            .set_role("roles/run.developer")
            .set_members([a]),
    ];
    assert_eq!(
        fake.sets(Api::ResourceManager),
        [write(project, 1, bindings.clone())],
        "shared roles in one binding; the conditional one kept apart"
    );
    assert_eq!(fake.bindings(project), bindings);
}

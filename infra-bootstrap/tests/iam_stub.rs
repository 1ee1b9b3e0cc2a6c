//! IAM read-modify-write (`iam::ensure`) against the official clients' stubs: exact
//! requests (policy version 3 asked for and written, the etag read sent back), a retry
//! when a concurrent write makes ours ABORTED, and other bindings kept as read,
//! conditional ones included.

#[path = "support/policies.rs"]
mod policies;

use google_cloud_iam_v1::model::{Binding, GetIamPolicyRequest, GetPolicyOptions};
use infra_bootstrap::iam::{ensure, ensure_all, Api, Grant, MAX_ATTEMPTS};
use policies::{conditional, write, FakePolicies};

const DLQ: &str = "projects/p/topics/secret-rotator-dead-letter";
const AGENT: &str = "serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com";

fn viewer() -> Binding {
    Binding::new()
        .set_role("roles/pubsub.viewer")
        .set_members(["user:ops@example.com"])
}

fn grant(api: Api, resource: &str, role: &str, member: &str) -> Grant {
    Grant {
        api,
        resource: resource.into(),
        role: role.into(),
        member: member.into(),
    }
}

fn read(resource: &str) -> GetIamPolicyRequest {
    GetIamPolicyRequest::new()
        .set_resource(resource)
        .set_options(GetPolicyOptions::new().set_requested_policy_version(3))
}

// Paused clock: the backoff between attempts costs no time.
#[tokio::test(start_paused = true)]
async fn adds_the_binding_keeping_the_etag_and_retries_on_aborted() {
    let fake = FakePolicies::new();
    fake.seed(DLQ, vec![viewer()]);
    fake.interfere(DLQ, 1);
    let clients = fake.clients();
    let g = grant(Api::Pubsub, DLQ, "roles/pubsub.publisher", AGENT);
    assert!(ensure(clients.pubsub.as_ref(), &g).await.expect("ensure"));

    assert_eq!(
        fake.gets(Api::Pubsub),
        vec![read(DLQ); 2],
        "read again after the conflict, as version 3"
    );
    let expected = |generation| {
        let added = Binding::new()
            .set_role(&g.role)
            .set_members([g.member.clone()]);
        write(DLQ, generation, vec![viewer(), added])
    };
    assert_eq!(
        fake.sets(Api::Pubsub),
        [expected(1), expected(2)],
        "the retry carries the new etag"
    );
}

#[tokio::test]
async fn present_binding_is_not_written_again() {
    let fake = FakePolicies::new();
    fake.seed(DLQ, vec![viewer()]);
    let clients = fake.clients();
    let g = grant(
        Api::Pubsub,
        DLQ,
        "roles/pubsub.viewer",
        "user:ops@example.com",
    );
    assert!(!ensure(clients.pubsub.as_ref(), &g).await.expect("ensure"));
    assert_eq!(fake.all_sets(), 0);
}

// Paused clock: the backoff between attempts costs no time.
#[tokio::test(start_paused = true)]
async fn a_policy_that_keeps_changing_is_given_up_naming_it() {
    let fake = FakePolicies::new();
    fake.interfere(DLQ, MAX_ATTEMPTS);
    let clients = fake.clients();
    let g = grant(Api::Pubsub, DLQ, "roles/pubsub.publisher", AGENT);
    let err = ensure(clients.pubsub.as_ref(), &g)
        .await
        .expect_err("gives up");
    assert_eq!(fake.sets(Api::Pubsub).len(), MAX_ATTEMPTS as usize);
    assert!(format!("{err:#}").contains(DLQ), "{err:#}");
}

#[tokio::test]
async fn project_roles_keep_a_conditional_binding_and_write_version_3() {
    let fake = FakePolicies::new();
    let project = "projects/acme";
    let runtime = "serviceAccount:gk-a@acme.iam.gserviceaccount.com";
    let owner = Binding::new()
        .set_role("roles/owner")
        .set_members(["user:admin@example.com"]);
    // The same role and member, but only until a date: does not count as granted.
    let until = conditional(
        "roles/cloudsql.client",
        runtime,
        "request.time < timestamp('2030-01-01T00:00:00Z')",
    );
    fake.seed(project, vec![owner.clone(), until.clone()]);
    fake.interfere(project, 1);
    let clients = fake.clients();
    let wanted = [
        grant(
            Api::ResourceManager,
            project,
            "roles/cloudsql.client",
            runtime,
        ),
        grant(
            Api::ResourceManager,
            project,
            "roles/pubsub.publisher",
            runtime,
        ),
    ];
    let added = ensure_all(
        clients.projects.as_ref(),
        project,
        &[&wanted[0], &wanted[1]],
    )
    .await
    .expect("ensure");
    assert_eq!(added, [&wanted[0], &wanted[1]]);

    assert_eq!(fake.gets(Api::ResourceManager), vec![read(project); 2]);
    let bindings = vec![
        owner,
        until,
        Binding::new()
            .set_role("roles/cloudsql.client")
            .set_members([runtime]),
        Binding::new()
            .set_role("roles/pubsub.publisher")
            .set_members([runtime]),
    ];
    assert_eq!(
        fake.sets(Api::ResourceManager),
        [
            write(project, 1, bindings.clone()),
            write(project, 2, bindings.clone())
        ],
        "one write for both roles, retried once with the new etag"
    );
    assert_eq!(fake.bindings(project), bindings);
}

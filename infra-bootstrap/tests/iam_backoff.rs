//! How `iam::ensure` retries a read-modify-write that a concurrent writer made ABORTED: after
//! a growing pause, a bounded number of times, with an error that says it gave up, and never
//! on any other failure. Tokio's clock is paused, so the pauses cost no time and are exact
//! sums of what `ensure` slept (nothing else here advances the clock).

#[path = "support/policies.rs"]
mod policies;

use std::sync::Mutex;

use async_trait::async_trait;
use google_cloud_iam_v1::model::{Binding, Policy};
use infra_bootstrap::iam::{ensure, Api, Grant, PolicyApi, FIRST_RETRY_DELAY, MAX_ATTEMPTS};
use policies::{write, FakePolicies};
use tokio::time::Instant;

const DLQ: &str = "projects/p/topics/secret-rotator-dead-letter";
const AGENT: &str = "serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com";

fn publisher() -> Grant {
    Grant {
        api: Api::Pubsub,
        resource: DLQ.into(),
        role: "roles/pubsub.publisher".into(),
        member: AGENT.into(),
    }
}

/// The Pub/Sub client, noting the (paused) clock at every write.
struct Timed<'a> {
    api: &'a dyn PolicyApi,
    writes: Mutex<Vec<Instant>>,
}

#[async_trait]
impl PolicyApi for Timed<'_> {
    async fn get(&self, resource: &str) -> google_cloud_gax::Result<Policy> {
        self.api.get(resource).await
    }
    async fn set(&self, resource: &str, policy: Policy) -> google_cloud_gax::Result<Policy> {
        self.writes.lock().expect("lock").push(Instant::now());
        self.api.set(resource, policy).await
    }
}

#[tokio::test(start_paused = true)]
async fn conflicts_are_retried_after_growing_pauses_then_succeed() {
    let fake = FakePolicies::new();
    fake.interfere(DLQ, 2);
    let clients = fake.clients();
    let timed = Timed {
        api: clients.pubsub.as_ref(),
        writes: Mutex::default(),
    };
    let g = publisher();
    assert!(ensure(&timed, &g).await.expect("ensure"));

    let added = || {
        vec![Binding::new()
            .set_role(&g.role)
            .set_members([g.member.clone()])]
    };
    assert_eq!(
        fake.sets(Api::Pubsub),
        [
            write(DLQ, 1, added()),
            write(DLQ, 2, added()),
            write(DLQ, 3, added())
        ],
        "each retry re-reads and carries the new etag"
    );
    assert_eq!(fake.gets(Api::Pubsub).len(), 3);
    let writes = timed.writes.lock().expect("lock").clone();
    let pauses: Vec<_> = writes.windows(2).map(|w| w[1] - w[0]).collect();
    // Exponential with jitter: the n-th pause is FIRST_RETRY_DELAY * 2^n plus up to as much.
    assert!(pauses[0] >= FIRST_RETRY_DELAY, "{pauses:?}");
    assert!(pauses[1] >= 2 * FIRST_RETRY_DELAY, "{pauses:?}");
}

#[tokio::test(start_paused = true)]
async fn a_policy_that_keeps_changing_is_given_up_after_the_bound_saying_so() {
    let fake = FakePolicies::new();
    fake.interfere(DLQ, MAX_ATTEMPTS);
    let clients = fake.clients();
    let err = ensure(clients.pubsub.as_ref(), &publisher())
        .await
        .expect_err("gives up");
    assert_eq!(fake.gets(Api::Pubsub).len(), MAX_ATTEMPTS as usize);
    assert_eq!(fake.sets(Api::Pubsub).len(), MAX_ATTEMPTS as usize);
    let message = format!("{err:#}");
    assert!(
        message.contains(&format!(
            "policy of {DLQ} kept changing; gave up after {MAX_ATTEMPTS} attempts"
        )),
        "{message}"
    );
    assert!(
        message.contains("etag mismatch"),
        "the last cause: {message}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_other_than_a_conflict_is_not_retried() {
    let fake = FakePolicies::new();
    // The fake refuses to write a policy read in the mangled version-1 form (INVALID_ARGUMENT).
    fake.seed(
        DLQ,
        vec![Binding::new()
            .set_role("roles/pubsub.viewer_withcond_0")
            .set_members(["user:ops@example.com"])],
    );
    let clients = fake.clients();
    let err = ensure(clients.pubsub.as_ref(), &publisher())
        .await
        .expect_err("invalid argument");
    assert_eq!(fake.sets(Api::Pubsub).len(), 1, "{err:#}");
    assert!(
        format!("{err:#}").contains("writing the IAM policy of"),
        "{err:#}"
    );

    fake.refuse(DLQ, google_cloud_gax::error::rpc::Code::PermissionDenied);
    let err = ensure(clients.pubsub.as_ref(), &publisher())
        .await
        .expect_err("permission denied");
    assert_eq!(
        fake.gets(Api::Pubsub).len(),
        2,
        "one more read, no retry: {err:#}"
    );
    assert_eq!(fake.sets(Api::Pubsub).len(), 1);
}

//! `run.invoker` grants through `Grants::apply` against the Cloud Run `Services` stub: the
//! grants go to Cloud Run (not Pub/Sub), the etag is honoured and an ABORTED write retried.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_iam_v1::model::{Binding, GetIamPolicyRequest, Policy, SetIamPolicyRequest};
use infra_bootstrap::iam::{grants, Api, Grants};
use infra_bootstrap::manifest::Manifest;

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/production.example.toml"
    ))
    .expect("read");
    Manifest::parse(&text).expect("valid")
}

fn etag(version: u32) -> bytes::Bytes {
    bytes::Bytes::from(format!("v{version}"))
}

/// Cloud Run service policies with real etag semantics: a write whose etag is stale fails
/// ABORTED. `interfere` simulates that many concurrent writers landing before our write.
#[derive(Debug, Default)]
struct RunPolicies {
    live: Mutex<BTreeMap<String, (u32, Vec<Binding>)>>,
    interfere: Mutex<u32>,
    sets: Mutex<Vec<SetIamPolicyRequest>>,
}

impl google_cloud_run_v2::stub::Services for RunPolicies {
    async fn get_iam_policy(
        &self,
        req: GetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        let mut live = self.live.lock().expect("lock");
        let (version, bindings) = live.entry(req.resource).or_insert((1, vec![]));
        Ok(Response::from(
            Policy::new()
                .set_etag(etag(*version))
                .set_bindings(bindings.clone()),
        ))
    }

    async fn set_iam_policy(
        &self,
        req: SetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        self.sets.lock().expect("lock").push(req.clone());
        let mut live = self.live.lock().expect("lock");
        let (version, bindings) = live.entry(req.resource.clone()).or_insert((1, vec![]));
        let mut interfere = self.interfere.lock().expect("lock");
        if *interfere > 0 {
            *interfere -= 1;
            *version += 1;
        }
        let policy = req.policy.unwrap_or_default();
        if policy.etag != etag(*version) {
            let status = Status::default()
                .set_code(Code::Aborted)
                .set_message("etag mismatch");
            return Err(google_cloud_gax::error::Error::service(status));
        }
        *version += 1;
        bindings.clone_from(&policy.bindings);
        Ok(Response::from(policy.set_etag(etag(*version))))
    }
}

/// Pub/Sub policies that already hold every role for everyone asked about: no writes.
#[derive(Debug, Default)]
struct PubsubComplete {
    agent: String,
    sets: Mutex<u32>,
}

impl google_cloud_pubsub::stub::SchemaService for PubsubComplete {
    async fn get_iam_policy(
        &self,
        _: GetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        Ok(Response::from(Policy::new().set_bindings(
            ["roles/pubsub.publisher", "roles/pubsub.subscriber"].map(|r| {
                Binding::new()
                    .set_role(r)
                    .set_members([format!("serviceAccount:{}", self.agent)])
            }),
        )))
    }

    async fn set_iam_policy(
        &self,
        req: SetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        *self.sets.lock().expect("lock") += 1;
        Ok(Response::from(req.policy.unwrap_or_default()))
    }
}

#[tokio::test]
async fn invoker_grants_go_to_cloud_run_and_survive_a_concurrent_write() {
    let m = manifest();
    let run = Arc::new(RunPolicies {
        interfere: Mutex::new(1),
        ..RunPolicies::default()
    });
    let pubsub = Arc::new(PubsubComplete {
        agent: m.iam.as_ref().expect("iam").pubsub_service_agent.clone(),
        sets: Mutex::default(),
    });
    let grants = Grants {
        pubsub: Box::new(google_cloud_pubsub::client::SchemaService::from_stub::<
            PubsubComplete,
        >(pubsub.clone())),
        run: Box::new(google_cloud_run_v2::client::Services::from_stub::<
            RunPolicies,
        >(run.clone())),
        grants: grants(&m),
    };
    let invokers: Vec<_> = grants
        .grants
        .iter()
        .filter(|g| g.api == Api::CloudRun)
        .cloned()
        .collect();
    assert_eq!(invokers.len(), 4, "one per service with an OIDC account");
    grants.apply().await.expect("apply");

    assert_eq!(
        *pubsub.sets.lock().expect("lock"),
        0,
        "Pub/Sub was complete"
    );
    let sets = run.sets.lock().expect("lock").clone();
    assert_eq!(sets.len(), invokers.len() + 1, "one retry");
    let first = &invokers[0];
    assert_eq!(
        first.resource,
        "projects/acme-platform-prod/locations/europe-west1/services/env-provisioner"
    );
    let expected = |etag_version: u32| {
        SetIamPolicyRequest::new()
            .set_resource(first.resource.clone())
            .set_policy(
                Policy::new()
                    .set_etag(etag(etag_version))
                    .set_bindings([Binding::new()
                        .set_role("roles/run.invoker")
                        .set_members([first.member.clone()])]),
            )
    };
    assert_eq!(sets[0], expected(1));
    assert_eq!(sets[1], expected(2), "re-read after ABORTED, new etag");
    let live = run.live.lock().expect("lock").clone();
    for g in &invokers {
        let (_, bindings) = &live[&g.resource];
        assert!(
            bindings
                .iter()
                .any(|b| b.role == "roles/run.invoker" && b.members == [g.member.clone()]),
            "{} lacks {}",
            g.resource,
            g.member
        );
    }

    // Converged: a second apply writes nothing.
    grants.apply().await.expect("second apply");
    assert_eq!(run.sets.lock().expect("lock").len(), invokers.len() + 1);
}

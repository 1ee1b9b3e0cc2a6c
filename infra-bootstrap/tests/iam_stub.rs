//! IAM read-modify-write against the Pub/Sub client's stub: exact requests, the etag kept,
//! and a retry when the write is ABORTED by a concurrent change.

use std::sync::Mutex;

use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_iam_v1::model::{Binding, GetIamPolicyRequest, Policy, SetIamPolicyRequest};
use google_cloud_pubsub::client::SchemaService;
use infra_bootstrap::iam::{ensure, Api, Grant};

/// Serves policies with etags "v1", "v2", ...; the first `conflicts` writes fail ABORTED
/// (someone else wrote in between, so the etag moves on).
#[derive(Debug)]
struct FakeIam {
    version: Mutex<u32>,
    conflicts: Mutex<u32>,
    sets: Mutex<Vec<SetIamPolicyRequest>>,
    gets: Mutex<Vec<String>>,
}

fn policy(version: u32) -> Policy {
    Policy::new()
        .set_etag(bytes::Bytes::from(format!("v{version}")))
        .set_bindings([Binding::new()
            .set_role("roles/pubsub.viewer")
            .set_members(["user:ops@example.com"])])
}

impl google_cloud_pubsub::stub::SchemaService for FakeIam {
    async fn get_iam_policy(
        &self,
        req: GetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        self.gets.lock().expect("lock").push(req.resource);
        Ok(Response::from(policy(*self.version.lock().expect("lock"))))
    }

    async fn set_iam_policy(
        &self,
        req: SetIamPolicyRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        self.sets.lock().expect("lock").push(req.clone());
        let mut conflicts = self.conflicts.lock().expect("lock");
        if *conflicts > 0 {
            *conflicts -= 1;
            *self.version.lock().expect("lock") += 1;
            let status = Status::default()
                .set_code(Code::Aborted)
                .set_message("etag mismatch");
            return Err(google_cloud_gax::error::Error::service(status));
        }
        Ok(Response::from(req.policy.unwrap_or_default()))
    }
}

fn grant() -> Grant {
    Grant {
        api: Api::Pubsub,
        resource: "projects/p/topics/secret-rotator-dead-letter".into(),
        role: "roles/pubsub.publisher".into(),
        member: "serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com".into(),
    }
}

#[tokio::test]
async fn adds_the_binding_keeping_the_etag_and_retries_on_aborted() {
    let fake = std::sync::Arc::new(FakeIam {
        version: Mutex::new(1),
        conflicts: Mutex::new(1),
        sets: Mutex::default(),
        gets: Mutex::default(),
    });
    let client = SchemaService::from_stub::<FakeIam>(fake.clone());
    assert!(ensure(&client, &grant()).await.expect("ensure"));

    let gets = fake.gets.lock().expect("lock").clone();
    assert_eq!(
        gets,
        vec![grant().resource; 2],
        "read again after the conflict"
    );
    let sets = fake.sets.lock().expect("lock").clone();
    assert_eq!(sets.len(), 2);
    let expected = |etag: &str| {
        SetIamPolicyRequest::new()
            .set_resource(grant().resource)
            .set_policy(
                Policy::new()
                    .set_etag(bytes::Bytes::from(etag.to_owned()))
                    .set_bindings([
                        Binding::new()
                            .set_role("roles/pubsub.viewer")
                            .set_members(["user:ops@example.com"]),
                        Binding::new()
                            .set_role(grant().role)
                            .set_members([grant().member]),
                    ]),
            )
    };
    assert_eq!(sets[0], expected("v1"));
    assert_eq!(sets[1], expected("v2"), "the retry carries the new etag");
}

#[tokio::test]
async fn present_binding_is_not_written_again() {
    let fake = std::sync::Arc::new(FakeIam {
        version: Mutex::new(1),
        conflicts: Mutex::new(0),
        sets: Mutex::default(),
        gets: Mutex::default(),
    });
    let client = SchemaService::from_stub::<FakeIam>(fake.clone());
    let mut g = grant();
    g.role = "roles/pubsub.viewer".into();
    g.member = "user:ops@example.com".into();
    assert!(!ensure(&client, &g).await.expect("ensure"));
    assert!(fake.sets.lock().expect("lock").is_empty());
}

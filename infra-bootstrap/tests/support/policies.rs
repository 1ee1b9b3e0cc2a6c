//! One fake IAM backend behind the stubs of the four clients that hold policies (Pub/Sub,
//! Cloud Run, IAM service accounts, Resource Manager projects), with the service's rules:
//! a write with a stale etag is ABORTED; a policy with conditional bindings reads back
//! mangled below version 3 (conditions dropped, roles suffixed `_withcond_`, as IAM does)
//! and can only be written as version 3. A resource can be made to refuse reads (absent:
//! NOT_FOUND; no permission: PERMISSION_DENIED). Every request is recorded with its API.
#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_iam_v1::model::{Binding, GetIamPolicyRequest, Policy, SetIamPolicyRequest};
use infra_bootstrap::iam::{ensure_grants, grants, Api, Grant, PolicyClients};
use infra_bootstrap::manifest::Manifest;

/// The checked-in production example.
pub fn production() -> Manifest {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/manifests/production.example.toml"
    ))
    .expect("read");
    Manifest::parse(&text).expect("valid")
}

/// The etag of a policy's `generation`-th state: `v1`, `v2`, ...
pub fn etag(generation: u32) -> bytes::Bytes {
    bytes::Bytes::from(format!("v{generation}"))
}

/// A binding with a condition (built through serde: the `Expr` type lives in a crate this
/// package does not depend on).
pub fn conditional(role: &str, member: &str, expression: &str) -> Binding {
    serde_json::from_value(serde_json::json!({
        "role": role,
        "members": [member],
        "condition": {"title": "fixture", "expression": expression},
    }))
    .expect("binding")
}

/// The write `ensure` makes: `bindings` as version 3, with the etag of the generation read.
pub fn write(resource: &str, generation: u32, bindings: Vec<Binding>) -> SetIamPolicyRequest {
    SetIamPolicyRequest::new()
        .set_resource(resource)
        .set_policy(
            Policy::new()
                .set_version(3)
                .set_etag(etag(generation))
                .set_bindings(bindings),
        )
}

#[derive(Debug, Clone)]
struct Live {
    generation: u32,
    bindings: Vec<Binding>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            generation: 1,
            bindings: vec![],
        }
    }
}

#[derive(Debug, Default)]
pub struct FakePolicies {
    live: Mutex<BTreeMap<String, Live>>,
    interfere: Mutex<BTreeMap<String, u32>>,
    refuse: Mutex<BTreeMap<String, Code>>,
    gets: Mutex<Vec<(Api, GetIamPolicyRequest)>>,
    sets: Mutex<Vec<(Api, SetIamPolicyRequest)>>,
}

fn error(code: Code, message: &str) -> google_cloud_gax::error::Error {
    google_cloud_gax::error::Error::service(Status::default().set_code(code).set_message(message))
}

impl FakePolicies {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// The official clients, all served by this fake.
    pub fn clients(self: &Arc<Self>) -> PolicyClients {
        PolicyClients {
            pubsub: Box::new(
                google_cloud_pubsub::client::SchemaService::from_stub::<Self>(self.clone()),
            ),
            run: Box::new(google_cloud_run_v2::client::Services::from_stub::<Self>(
                self.clone(),
            )),
            service_accounts: Box::new(google_cloud_iam_admin_v1::client::Iam::from_stub::<Self>(
                self.clone(),
            )),
            projects: Box::new(
                google_cloud_resourcemanager_v3::client::Projects::from_stub::<Self>(self.clone()),
            ),
        }
    }

    /// Policies holding every grant of `m`, as `apply` leaves them.
    pub async fn granted(m: &Manifest) -> Arc<Self> {
        let fake = Self::new();
        ensure_grants(&fake.clients(), &grants(m))
            .await
            .expect("apply");
        fake
    }

    /// `resource`'s policy holds `bindings` (first generation).
    pub fn seed(&self, resource: &str, bindings: Vec<Binding>) {
        let live = Live {
            generation: 1,
            bindings,
        };
        self.live
            .lock()
            .expect("lock")
            .insert(resource.into(), live);
    }

    /// `resource`'s bindings now.
    pub fn bindings(&self, resource: &str) -> Vec<Binding> {
        let live = self.live.lock().expect("lock");
        live.get(resource)
            .map(|l| l.bindings.clone())
            .unwrap_or_default()
    }

    /// Someone removes `member` from `role` on `resource` (a new generation).
    pub fn revoke(&self, resource: &str, role: &str, member: &str) {
        let mut live = self.live.lock().expect("lock");
        let l = live.get_mut(resource).expect("known resource");
        for b in l.bindings.iter_mut().filter(|b| b.role == role) {
            b.members.retain(|m| m != member);
        }
        l.bindings.retain(|b| !b.members.is_empty());
        l.generation += 1;
    }

    /// Someone swaps `g` for the same role and member under `expression`: it may not hold
    /// when the member acts, so it does not count as granted.
    pub fn make_conditional(&self, g: &Grant, expression: &str) {
        self.revoke(&g.resource, &g.role, &g.member);
        let mut bindings = self.bindings(&g.resource);
        bindings.push(conditional(&g.role, &g.member, expression));
        self.seed(&g.resource, bindings);
    }

    /// The next `writes` writes to `resource` each lose a race against another writer.
    pub fn interfere(&self, resource: &str, writes: u32) {
        self.interfere
            .lock()
            .expect("lock")
            .insert(resource.into(), writes);
    }

    /// Reads of `resource`'s policy fail with `code` (e.g. NOT_FOUND: it does not exist yet).
    pub fn refuse(&self, resource: &str, code: Code) {
        self.refuse
            .lock()
            .expect("lock")
            .insert(resource.into(), code);
    }

    pub fn gets(&self, api: Api) -> Vec<GetIamPolicyRequest> {
        let gets = self.gets.lock().expect("lock");
        gets.iter()
            .filter(|(a, _)| *a == api)
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn sets(&self, api: Api) -> Vec<SetIamPolicyRequest> {
        let sets = self.sets.lock().expect("lock");
        sets.iter()
            .filter(|(a, _)| *a == api)
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn all_sets(&self) -> usize {
        self.sets.lock().expect("lock").len()
    }

    fn get(
        &self,
        api: Api,
        req: GetIamPolicyRequest,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        self.gets.lock().expect("lock").push((api, req.clone()));
        if let Some(code) = self.refuse.lock().expect("lock").get(&req.resource) {
            return Err(error(*code, "refused by the test"));
        }
        let mut live = self.live.lock().expect("lock");
        let l = live.entry(req.resource).or_default();
        let conditional = l.bindings.iter().any(|b| b.condition.is_some());
        let requested = req.options.map_or(0, |o| o.requested_policy_version);
        let (version, bindings) = match (conditional, requested >= 3) {
            (false, _) => (1, l.bindings.clone()),
            (true, true) => (3, l.bindings.clone()),
            (true, false) => (1, l.bindings.iter().cloned().map(mangle).collect()),
        };
        Ok(Response::from(
            Policy::new()
                .set_version(version)
                .set_etag(etag(l.generation))
                .set_bindings(bindings),
        ))
    }

    fn set(
        &self,
        api: Api,
        req: SetIamPolicyRequest,
    ) -> google_cloud_gax::Result<Response<Policy>> {
        self.sets.lock().expect("lock").push((api, req.clone()));
        let mut live = self.live.lock().expect("lock");
        let l = live.entry(req.resource.clone()).or_default();
        if let Some(n) = self.interfere.lock().expect("lock").get_mut(&req.resource) {
            if *n > 0 {
                *n -= 1;
                l.generation += 1;
            }
        }
        let policy = req.policy.unwrap_or_default();
        if policy.etag != etag(l.generation) {
            return Err(error(Code::Aborted, "etag mismatch"));
        }
        if policy
            .bindings
            .iter()
            .any(|b| b.role.contains("_withcond_"))
        {
            return Err(error(
                Code::InvalidArgument,
                "read as version 1: conditions lost",
            ));
        }
        if policy.bindings.iter().any(|b| b.condition.is_some()) && policy.version != 3 {
            return Err(error(
                Code::InvalidArgument,
                "conditional bindings need version 3",
            ));
        }
        l.generation += 1;
        l.bindings.clone_from(&policy.bindings);
        Ok(Response::from(policy.set_etag(etag(l.generation))))
    }
}

/// What IAM returns for a conditional binding read below version 3.
fn mangle(mut b: Binding) -> Binding {
    if b.condition.take().is_some() {
        b.role = format!("{}_withcond_0123", b.role);
    }
    b
}

macro_rules! serve {
    ($($stub:path => $api:expr),+ $(,)?) => {$(
        impl $stub for FakePolicies {
            async fn get_iam_policy(
                &self,
                req: GetIamPolicyRequest,
                _: RequestOptions,
            ) -> google_cloud_gax::Result<Response<Policy>> {
                self.get($api, req)
            }
            async fn set_iam_policy(
                &self,
                req: SetIamPolicyRequest,
                _: RequestOptions,
            ) -> google_cloud_gax::Result<Response<Policy>> {
                self.set($api, req)
            }
        }
    )+};
}

serve!(
    google_cloud_pubsub::stub::SchemaService => Api::Pubsub,
    google_cloud_run_v2::stub::Services => Api::CloudRun,
    google_cloud_iam_admin_v1::stub::Iam => Api::Iam,
    google_cloud_resourcemanager_v3::stub::Projects => Api::ResourceManager,
);

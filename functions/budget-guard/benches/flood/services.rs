//! The services under the flood, as Cloud Run runs them minus the process: for each of
//! env-provisioner and budget-guard, three replicas (the runtime's router and dispatcher,
//! ledger included, with a handler of their own) on loopback ports, over one control
//! database and one PostgreSQL cluster. budget-guard's Cloud Run fleet is the stub of
//! `tests/stack/fleet.rs` (Google ships no emulator); everything else is real: databases,
//! roles, the local secret store, a `file://` object store.

use std::future::pending;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use shared::backends::databases::PostgresAdmin;
use shared::backends::object_store::FileStore;
use shared::backends::publisher::RecordingPublisher;
use shared::backends::secrets::LocalSecretStore;
use shared::backends::Plan;
use shared::dispatch::{DispatchOptions, Dispatcher};
use shared::ledger::Ledger;
use shared::{env::Env, Backends, Ctx};

use crate::stack::fleet::labels;
use crate::stack::Stack;

/// Replicas per service.
pub const REPLICAS: usize = 3;
/// budget-guard's Cloud Run services in the dev budget's scope.
pub const DEV_SERVICES: usize = 4;
/// How long a replica waits for in-flight deliveries when stopped (it never is, here).
const GRACE: Duration = Duration::from_secs(1);
/// env-provisioner's dead-letter topic.
pub const ENV_DEAD_LETTERS: &str = "env-provisioner-dead-letter";

/// Both services and what they share.
pub struct Services {
    /// budget-guard's stack: the cluster, the control database, the fleet stubs.
    pub stack: Stack,
    /// What env-provisioner published.
    pub env_published: Arc<RecordingPublisher>,
    /// Replica URLs, env-provisioner's.
    pub env_urls: Vec<String>,
    /// Replica URLs, budget-guard's.
    pub budget_urls: Vec<String>,
    objects: PathBuf,
}

impl Services {
    /// Starts the components and serves three replicas of each service.
    pub async fn start() -> Self {
        let stack = Stack::start(&[]).await;
        for i in 0..DEV_SERVICES {
            let dev = labels(&[("managed-by", "groundskeeper"), ("tier", "dev")]);
            stack.run.add(&format!("dev-{i}"), 1, 10, dev);
        }
        let objects = std::env::temp_dir().join(testbed::unique_name("flood-objects"));
        std::fs::create_dir_all(&objects).expect("objects dir");
        let env_published = Arc::new(RecordingPublisher::new(Plan::default()));
        let env_ctx = env_ctx(&stack, &objects, env_published.clone()).await;
        let url = format!("file://{}", objects.display());
        let config = env_provisioner::Config::from_env(&Env::from_pairs([(
            "OBJECT_STORE_URL",
            url.as_str(),
        )]))
        .expect("env-provisioner config");
        let mut env_urls = Vec::new();
        let mut budget_urls = Vec::new();
        for _ in 0..REPLICAS {
            let options = DispatchOptions {
                ledger: Some(Ledger::with_pool(
                    stack.base.control.clone(),
                    "env-provisioner",
                    Duration::from_secs(60),
                )),
                dead_letter_topic: ENV_DEAD_LETTERS.into(),
                timeout: Duration::from_secs(60),
            };
            let handler = env_provisioner::handler(config.clone());
            let dispatcher = Dispatcher::new(handler, env_ctx.clone(), options);
            // No push authentication: the flood measures delivery, and auth is the same
            // per-request check for every event (its cost is in the runtime benchmark).
            let (socket, url) = listener().await;
            let router = shared::server::router(dispatcher, None, "env-provisioner");
            tokio::spawn(shared::server::serve(socket, router, pending(), GRACE));
            env_urls.push(url);
            let (socket, url) = listener().await;
            let router = shared::server::router(stack.dispatcher(), None, "budget-guard");
            tokio::spawn(shared::server::serve(socket, router, pending(), GRACE));
            budget_urls.push(url);
        }
        Self {
            stack,
            env_published,
            env_urls,
            budget_urls,
            objects,
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.objects);
    }
}

/// env-provisioner's backends, as `shared::run` builds them locally, publishing to a recorder.
async fn env_ctx(
    stack: &Stack,
    objects: &std::path::Path,
    published: Arc<RecordingPublisher>,
) -> Ctx {
    let admin = PostgresAdmin::connect_lazy(&stack.base.admin_url().into(), None).expect("admin");
    let store = FileStore::new(objects.to_str().expect("UTF-8 path"))
        .await
        .expect("file store");
    Ctx::new(Backends {
        service: "env-provisioner".into(),
        events_topic: "events".into(),
        publisher: published,
        control_db: Some(stack.base.control.clone()),
        object_store: Some(Arc::new(store)),
        secrets: Some(Arc::new(LocalSecretStore::new(stack.base.control.clone()))),
        databases: Some(Arc::new(admin)),
        plan: None,
    })
}

/// A loopback listener for one replica, and its URL.
async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    (listener, url)
}

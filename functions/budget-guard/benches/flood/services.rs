//! The services under the flood, as Cloud Run runs them minus the process: for each of the
//! four services, three replicas (the runtime's router and dispatcher, ledger included, with
//! a handler of their own) on loopback ports, over one control database and one PostgreSQL
//! cluster. budget-guard's Cloud Run fleet is the stub of `tests/stack/fleet.rs` (Google
//! ships no emulator); everything else is real: databases, roles, the local secret store, a
//! `file://` object store, pg_dump.

use std::collections::BTreeMap;
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
use shared::server::router;
use shared::{env::Env, Backends, Ctx};

use crate::flood::mix::{self, Target};
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
/// secret-rotator's and backup-runner's dead-letter topics.
pub const OTHER_DEAD_LETTERS: [&str; 2] =
    ["secret-rotator-dead-letter", "backup-runner-dead-letter"];

/// The four services and what they share.
pub struct Services {
    /// budget-guard's stack: the cluster, the control database, the fleet stubs.
    pub stack: Stack,
    /// What env-provisioner published.
    pub env_published: Arc<RecordingPublisher>,
    /// What secret-rotator published.
    pub rotation_published: Arc<RecordingPublisher>,
    /// What backup-runner published (its own topic's verification requests included: they
    /// are not delivered here).
    pub backup_published: Arc<RecordingPublisher>,
    /// Replica URLs of each service.
    pub urls: BTreeMap<Target, Vec<String>>,
    /// The `file://` object store's directory.
    pub objects: PathBuf,
}

impl Services {
    /// Starts the components and serves three replicas of each service.
    pub async fn start() -> Self {
        let stack = Stack::start(&[]).await;
        for migrator in [&secret_rotator::migrations::MIGRATOR] {
            shared::migrations::control_migrator(migrator)
                .expect("secret-rotator's migrations")
                .run(&stack.base.control)
                .await
                .expect("migrated");
        }
        for i in 0..DEV_SERVICES {
            let dev = labels(&[("managed-by", "groundskeeper"), ("tier", "dev")]);
            stack.run.add(&format!("dev-{i}"), 1, 10, dev);
        }
        let objects = std::env::temp_dir().join(testbed::unique_name("flood-objects"));
        std::fs::create_dir_all(&objects).expect("objects dir");
        let url = format!("file://{}", objects.display());
        let admin_url = stack.base.admin_url();
        let recorder = || Arc::new(RecordingPublisher::new(Plan::default()));
        let (env_published, rotation_published, backup_published) =
            (recorder(), recorder(), recorder());
        let env_ctx = ctx(&stack, "env-provisioner", &objects, env_published.clone()).await;
        let rotation_ctx = ctx(
            &stack,
            "secret-rotator",
            &objects,
            rotation_published.clone(),
        )
        .await;
        let backup_ctx = ctx(&stack, "backup-runner", &objects, backup_published.clone()).await;
        let env_config = env_provisioner::Config::from_env(&Env::from_pairs([(
            "OBJECT_STORE_URL",
            url.as_str(),
        )]))
        .expect("env-provisioner config");
        // One rotation per secret here; the interval between two is not under test.
        let rotation_config =
            secret_rotator::Config::from_env(&Env::from_pairs([("MIN_ROTATION_INTERVAL_MS", "0")]))
                .expect("secret-rotator config");
        let backup_config = backup_runner::Config::from_env(&Env::from_pairs([
            ("MANAGED_DATABASE_URL", admin_url.as_str()),
            ("OBJECT_STORE_URL", url.as_str()),
        ]))
        .expect("backup-runner config");
        let options = |service: &'static str| DispatchOptions {
            ledger: Some(Ledger::with_pool(
                stack.base.control.clone(),
                service,
                Duration::from_secs(60),
            )),
            dead_letter_topic: format!("{service}-dead-letter"),
            timeout: Duration::from_secs(60),
        };
        let mut urls: BTreeMap<Target, Vec<String>> = BTreeMap::new();
        for _ in 0..REPLICAS {
            let env = env_provisioner::handler(env_config.clone());
            let env = Dispatcher::new(env, env_ctx.clone(), options("env-provisioner"));
            let rotation = secret_rotator::handler(rotation_config.clone());
            let rotation =
                Dispatcher::new(rotation, rotation_ctx.clone(), options("secret-rotator"));
            let backup = backup_runner::handler(backup_config.clone());
            let backup = Dispatcher::new(backup, backup_ctx.clone(), options("backup-runner"));
            // No push authentication: the flood measures delivery, and auth is the same
            // per-request check for every event (its cost is in the runtime benchmark).
            let routers = [
                (Target::Env, router(env, None, "env-provisioner")),
                (
                    Target::Budget,
                    router(stack.dispatcher(), None, "budget-guard"),
                ),
                (Target::Rotation, router(rotation, None, "secret-rotator")),
                (Target::Backup, router(backup, None, "backup-runner")),
            ];
            for (target, router) in routers {
                urls.entry(target).or_default().push(serve(router).await);
            }
        }
        Self {
            stack,
            env_published,
            rotation_published,
            backup_published,
            urls,
            objects,
        }
    }

    /// Makes `names` ready through env-provisioner before the flood: what is rotated and
    /// backed up during it.
    pub async fn make_standing(&self, names: &[String]) {
        let client = reqwest::Client::new();
        for (i, name) in names.iter().enumerate() {
            let id = format!("standing-request-{i}");
            let data = mix::environment_request(name, 100 + i);
            let body = mix::envelope(&id, &data, mix::cloud_event(&id, mix::REQUESTED));
            let url = &self.urls[&Target::Env][0];
            let mut attempts = 0;
            loop {
                let status = client.post(url).body(body.clone()).send().await;
                let status = status.map_or(0, |r| r.status().as_u16());
                if (200..300).contains(&status) {
                    break;
                }
                attempts += 1;
                assert!(attempts < 100, "standing environment {name}: {status}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.objects);
    }
}

/// A service's backends, as `shared::run` builds them locally, publishing to a recorder.
async fn ctx(
    stack: &Stack,
    service: &str,
    objects: &std::path::Path,
    published: Arc<RecordingPublisher>,
) -> Ctx {
    let admin = PostgresAdmin::connect_lazy(&stack.base.admin_url().into(), None).expect("admin");
    let store = FileStore::new(objects.to_str().expect("UTF-8 path"))
        .await
        .expect("file store");
    Ctx::new(Backends {
        service: service.into(),
        events_topic: "events".into(),
        publisher: published,
        control_db: Some(stack.base.control.clone()),
        object_store: Some(Arc::new(store)),
        secrets: Some(Arc::new(LocalSecretStore::new(stack.base.control.clone()))),
        databases: Some(Arc::new(admin)),
        plan: None,
    })
}

/// Serves `router` on a loopback port of its own; returns its URL.
async fn serve(router: axum::Router) -> String {
    let (socket, url) = listener().await;
    tokio::spawn(shared::server::serve(socket, router, pending(), GRACE));
    url
}

/// A loopback listener for one replica, and its URL.
async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    (listener, url)
}

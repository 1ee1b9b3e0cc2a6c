//! backup-runner over real local components: PostgreSQL (the control database, migrated with
//! env-provisioner's tables, and the managed server the environments' databases live on), a
//! `file://` object store, and a publisher that records what was published. What the runner
//! publishes to its own topic is delivered back through the runtime's dispatcher (ledger
//! included), as Pub/Sub's push subscription would.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(dead_code)] // each test file uses a different part

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use backup_runner::{BackupEvent, Config};
use events::names::EnvName;
use events::RawEvent;
use shared::backends::object_store::FileStore;
use shared::backends::publisher::RecordingPublisher;
use shared::backends::Plan;
use shared::dispatch::{DispatchOptions, Dispatcher};
use shared::ledger::Ledger;
use shared::{env::Env, Backends, Ctx, Decision};
use sqlx::{Connection, PgConnection};
use testbed::ServiceStack;

/// The runner's own topic (the registry's).
pub const TOPIC: &str = "backup-window";
pub const DEAD_LETTERS: &str = "backup-runner-dead-letter";
pub const WINDOW: &str = "dev.groundskeeper.backup.window.v1";
pub const REQUESTED: &str = "dev.groundskeeper.backup.requested.v1";
pub const VERIFY: &str = "dev.groundskeeper.backup.verify.requested.v1";
pub const RESTORE: &str = "dev.groundskeeper.backup.restore.requested.v1";

pub struct Stack {
    pub base: ServiceStack,
    pub published: Arc<RecordingPublisher>,
    pub ctx: Ctx,
    pub config: Arc<Config>,
    /// Messages to the runner's own topic already delivered back.
    delivered: std::sync::Mutex<usize>,
}

impl Stack {
    /// The stack, with `settings` added to the runner's defaults.
    pub async fn start(settings: &[(&str, &str)]) -> Self {
        let base = ServiceStack::builder()
            .migrations(
                shared::migrations::control_migrator(&env_provisioner::migrations::MIGRATOR)
                    .unwrap(),
            )
            .with_object_store()
            .build()
            .await;
        let store = FileStore::new(base.objects_dir().to_str().unwrap())
            .await
            .unwrap();
        let published = Arc::new(RecordingPublisher::new(Plan::default()));
        let ctx = Ctx::new(Backends {
            service: "backup-runner".into(),
            events_topic: "events".into(),
            publisher: published.clone(),
            control_db: Some(base.control.clone()),
            object_store: Some(Arc::new(store)),
            secrets: None,
            databases: None,
            plan: None,
        });
        let (admin, objects) = (base.admin_url(), base.objects_url());
        let mut pairs = vec![
            ("MANAGED_DATABASE_URL", admin.as_str()),
            ("OBJECT_STORE_URL", objects.as_str()),
        ];
        pairs.extend_from_slice(settings);
        let config = Arc::new(Config::from_env(&Env::from_pairs(pairs)).unwrap());
        Self {
            base,
            published,
            ctx,
            config,
            delivered: std::sync::Mutex::new(0),
        }
    }

    /// The runtime's dispatch path, as production builds it.
    pub fn dispatcher(&self) -> Dispatcher<BackupEvent, impl shared::Handler<BackupEvent>> {
        self.dispatcher_with(Some(Ledger::with_pool(
            self.base.control.clone(),
            "backup-runner",
            Duration::from_secs(60),
        )))
    }

    /// [`Stack::dispatcher`] with another ledger, or none: what the handler does on its own
    /// when the ledger's record is gone (pruned, or lost with a crashed lease).
    pub fn dispatcher_with(
        &self,
        ledger: Option<Ledger>,
    ) -> Dispatcher<BackupEvent, impl shared::Handler<BackupEvent>> {
        let options = DispatchOptions {
            ledger,
            dead_letter_topic: DEAD_LETTERS.into(),
            timeout: Duration::from_secs(120),
        };
        let config = Config::clone(&self.config);
        Dispatcher::new(backup_runner::handler(config), self.ctx.clone(), options)
    }

    /// Delivers one event.
    pub async fn deliver(&self, id: &str, ty: &str, data: serde_json::Value) -> Decision {
        self.dispatcher()
            .dispatch_raw(testbed::raw_event(id, ty, &data, None))
            .await
    }

    /// Delivers what the runner published to its own topic since the last call, until it
    /// publishes nothing new; returns every decision.
    pub async fn drain_own_topic(&self) -> Vec<Decision> {
        self.drain(0).await.0
    }

    /// The events emitted to the events topic of type `ty`.
    pub fn emitted_of(&self, ty: &str) -> Vec<serde_json::Value> {
        self.published
            .events()
            .into_iter()
            .filter(|(t, ..)| t == ty)
            .map(|(.., d)| d)
            .collect()
    }

    /// The distinct ids of the events of type `ty` emitted to the events topic (what a
    /// reader that deduplicates by CloudEvents id sees).
    pub fn emitted_ids_of(&self, ty: &str) -> std::collections::BTreeSet<String> {
        self.published
            .events()
            .into_iter()
            .filter(|(t, ..)| t == ty)
            .map(|(_, id, _)| id)
            .collect()
    }

    /// Every object in the store, relative key → bytes (temp files included).
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        let root = self.base.objects_dir();
        let mut found = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let key = path.strip_prefix(root).unwrap().display().to_string();
                    found.insert(key, std::fs::read(&path).unwrap());
                }
            }
        }
        found
    }

    /// Keys in the store ending with `suffix`.
    pub fn keys_ending(&self, suffix: &str) -> Vec<String> {
        self.objects()
            .into_keys()
            .filter(|k| k.ends_with(suffix))
            .collect()
    }

    /// An environment as env-provisioner leaves a ready one: its database on the managed
    /// server, with `rows` rows in two tables, and its row in the control database. (The row
    /// is written here because a test has no provisioner to ask; the runner itself reads it
    /// only through `env_provisioner::inventory`.)
    pub async fn ready_environment(&self, name: &str, tier: &str, rows: i64) -> EnvName {
        let env: EnvName = name.parse().unwrap();
        let mut admin = PgConnection::connect(&self.base.admin_url()).await.unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE {}", env.database().quoted()))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = self.database_url(env.database().as_str());
        let mut db = PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(&format!(
            "CREATE TABLE orders (id bigserial PRIMARY KEY, note text);
             CREATE SCHEMA ledger;
             CREATE TABLE ledger.\"Entries\" (id int, amount numeric);
             INSERT INTO orders (note) SELECT 'order ' || n FROM generate_series(1, {rows}) n;
             INSERT INTO ledger.\"Entries\" SELECT n, n * 1.5 FROM generate_series(1, {rows}) n;"
        ))
        .execute(&mut db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO control.environments \
             (name, spec, spec_hash, owner, tier, status, expires_at, request_id) \
             VALUES ($1, '{}', 'h', 'dev@example.com', $2, 'ready', now() + interval '1 day', 'r-' || $1)",
        )
        .bind(name)
        .bind(tier)
        .execute(&self.base.control)
        .await
        .unwrap();
        env
    }

    /// An environment env-provisioner is still making (or one in `status`): its owner role
    /// and its empty database, and its row in the control database.
    pub async fn provisioning_environment(&self, name: &str, tier: &str, status: &str) {
        let env: EnvName = name.parse().unwrap();
        let (db, owner) = (env.database(), env.owner_role());
        let mut admin = PgConnection::connect(&self.base.admin_url()).await.unwrap();
        for statement in [
            format!("CREATE ROLE {} NOLOGIN", owner.quoted()),
            format!("CREATE DATABASE {} OWNER {}", db.quoted(), owner.quoted()),
        ] {
            sqlx::raw_sql(&statement).execute(&mut admin).await.unwrap();
        }
        sqlx::query(
            "INSERT INTO control.environments \
             (name, spec, spec_hash, owner, tier, status, expires_at, request_id) \
             VALUES ($1, '{}', 'h', 'dev@example.com', $2, $3, now() + interval '1 day', 'r-' || $1)",
        )
        .bind(name)
        .bind(tier)
        .bind(status)
        .execute(&self.base.control)
        .await
        .unwrap();
    }

    /// Delivers `id` until it is no longer told to retry (Pub/Sub's redelivery after a
    /// crash); returns the last decision and how many deliveries were told to retry.
    pub async fn deliver_until_settled(
        &self,
        id: &str,
        ty: &str,
        data: serde_json::Value,
    ) -> (Decision, usize) {
        for retries in 0..5 {
            match self.deliver(id, ty, data.clone()).await {
                Decision::Retry { .. } => continue,
                decision => return (decision, retries),
            }
        }
        panic!("{id}: still told to retry after 5 deliveries");
    }

    /// [`Stack::drain_own_topic`], redelivering each message told to retry (up to 5 times
    /// in all); returns the final decisions and how many deliveries were told to retry.
    pub async fn drain_own_topic_redelivering(&self) -> (Vec<Decision>, usize) {
        self.drain(5).await
    }

    async fn drain(&self, max_retries: usize) -> (Vec<Decision>, usize) {
        let (mut decisions, mut retries) = (Vec::new(), 0);
        loop {
            let messages = self.published.messages_to(TOPIC);
            let start = std::mem::replace(&mut *self.delivered.lock().unwrap(), messages.len());
            if start == messages.len() {
                return (decisions, retries);
            }
            for message in &messages[start..] {
                let mut decision = self.dispatcher().dispatch_raw(raw_of(message)).await;
                while matches!(decision, Decision::Retry { .. }) && retries < max_retries {
                    retries += 1;
                    decision = self.dispatcher().dispatch_raw(raw_of(message)).await;
                }
                decisions.push(decision);
            }
        }
    }

    /// The URL of database `name` on the managed server.
    pub fn database_url(&self, name: &str) -> String {
        let admin = self.base.admin_url();
        let (server, _) = admin.rsplit_once('/').unwrap();
        format!("{server}/{name}")
    }
}

/// The message as the runtime would receive it from a push subscription.
pub fn raw_of(message: &events::Message) -> RawEvent {
    let attribute = |name: &str| message.attributes.get(name).cloned().unwrap_or_default();
    let data: serde_json::Value = serde_json::from_slice(&message.data).unwrap();
    testbed::raw_event(&attribute("ce-id"), &attribute("ce-type"), &data, None)
}

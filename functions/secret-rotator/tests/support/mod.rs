//! A rotator over real local components: a PostgreSQL cluster that checks passwords (SCRAM
//! for every role but the superuser), the control database with the local secret store, and
//! a publisher that records what was emitted. Environments are provisioned the way
//! env-provisioner does it: NOLOGIN owner, `_a` / `_b` login roles switching to it, a
//! database, and the credentials secret (its JSON and labels) with `current` on version 1.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(dead_code)] // each test file uses a different part

use std::{ops::Deref, sync::Arc, time::Duration};

use events::names::{EnvName, LoginSlot, SecretId};
use events::{RawEvent, Tier};
use secrecy::{ExposeSecret, SecretString};
use secret_rotator::{Config, Credential, RotateError, RotatorEvent, TooSoon};
use shared::backends::{
    databases::{DatabaseAdmin, PostgresAdmin},
    publisher::RecordingPublisher,
    secrets::{LocalSecretStore, SecretStore},
    Plan,
};
use shared::dispatch::{DispatchOptions, Dispatcher};
use shared::ledger::Ledger;
use shared::Decision;
use shared::{env::Env, Backends, Ctx, Event, Outcome};
use sqlx::{Connection, PgConnection};
use testbed::ServiceStack;

/// The components ([`ServiceStack`], reached through `Deref`: `postgres`, `control`) and
/// the rotator over them.
pub struct Stack {
    pub base: ServiceStack,
    pub admin: PostgresAdmin,
    pub store: Arc<LocalSecretStore>,
    pub published: Arc<RecordingPublisher>,
    pub config: Arc<Config>,
    pub ctx: Ctx,
}

impl Deref for Stack {
    type Target = ServiceStack;
    fn deref(&self) -> &ServiceStack {
        &self.base
    }
}

/// Settings tests start from: no minimum interval between rotations.
pub const FAST: &[(&str, &str)] = &[("MIN_ROTATION_INTERVAL_MS", "0")];

impl Stack {
    pub async fn start(settings: &[(&str, &str)]) -> Self {
        // Migrated first, as a deploy's `migrate` step does; the control pool is built like
        // production's (8 connections, connected on demand), so the tests meet its limits.
        let base = ServiceStack::builder()
            .migrations(
                shared::migrations::control_migrator(&secret_rotator::migrations::MIGRATOR)
                    .unwrap(),
            )
            .build()
            .await;
        let admin = PostgresAdmin::connect_lazy(&base.admin_url().into(), None).unwrap();
        let store = Arc::new(LocalSecretStore::new(base.control.clone()));
        let published = Arc::new(RecordingPublisher::new(Plan::default()));
        let config =
            Arc::new(Config::from_env(&Env::from_pairs(settings.iter().copied())).unwrap());
        let ctx = Ctx::new(Backends {
            service: "secret-rotator".into(),
            events_topic: "events".into(),
            publisher: published.clone(),
            control_db: Some(base.control.clone()),
            object_store: None,
            secrets: Some(store.clone()),
            databases: Some(Arc::new(admin.clone())),
            plan: None,
        });
        Self {
            base,
            admin,
            store,
            published,
            config,
            ctx,
        }
    }

    /// A context with other settings over the same components.
    pub fn with_config(&self, settings: &[(&str, &str)]) -> Arc<Config> {
        Arc::new(Config::from_env(&Env::from_pairs(settings.iter().copied())).unwrap())
    }

    /// Provisions environment `name` (tier dev) like env-provisioner; returns its secret.
    pub async fn provision(&self, name: &str) -> SecretId {
        self.provision_with(name, &[]).await
    }

    /// [`Stack::provision`] of a unique environment, the `i`-th of a batch.
    pub async fn provision_at(&self, i: usize) -> SecretId {
        self.provision(&env_name(&format!("n{i}"))).await
    }

    /// [`Stack::provision`], with `extra` labels on the secret (as a platform operator, or an
    /// old bug, might have left them).
    pub async fn provision_with(&self, name: &str, extra: &[(&str, &str)]) -> SecretId {
        let env: EnvName = name.parse().unwrap();
        let a = env.login_role(LoginSlot::A);
        self.admin
            .create_owner_role(&env.owner_role())
            .await
            .unwrap();
        for slot in [LoginSlot::A, LoginSlot::B] {
            self.admin
                .create_login_role(&env.login_role(slot), &env.owner_role())
                .await
                .unwrap();
        }
        self.admin
            .create_database(&env.database(), &env.owner_role(), 50)
            .await
            .unwrap();
        let password = SecretString::from(format!("initial-{}", uuid()));
        self.admin.set_password(&a, &password).await.unwrap();
        let endpoint = self.admin.endpoint();
        let payload = serde_json::json!({
            "host": endpoint.host, "port": endpoint.port, "database": env.database(),
            "user": a, "password": password.expose_secret(), "sslmode": endpoint.sslmode,
        });
        let secret = env.secret_id(Tier::Dev);
        let mut labels = vec![
            ("managed-by", "groundskeeper"),
            ("environment", name),
            ("tier", "dev"),
            ("owner", "ci_example_com"),
        ];
        labels.extend_from_slice(extra);
        self.create_secret(secret.as_str(), &labels, &payload.to_string())
            .await;
        secret
    }

    /// Provisions environment `name` and returns a second secret, `NAME-app-db-credentials`,
    /// labelled `rotation=single-user`, for its `_a` role alone (a database the platform
    /// does not own: one login role).
    pub async fn provision_single_user(&self, name: &str) -> SecretId {
        let env_secret = self.provision(name).await;
        let mut payload: serde_json::Value = serde_json::from_str(
            self.store
                .access(env_secret.as_str(), "current")
                .await
                .unwrap()
                .expose_secret(),
        )
        .unwrap();
        payload["user"] = format!("env_{}_a", name.replace('-', "_")).into();
        let secret: SecretId = format!("{name}-app-db-credentials").parse().unwrap();
        self.create_secret(
            secret.as_str(),
            &[("managed-by", "groundskeeper"), ("rotation", "single-user")],
            &payload.to_string(),
        )
        .await;
        secret
    }

    /// The runtime's dispatch path over this stack, as production builds it: the ledger,
    /// the dead-letter topic [`DEAD_LETTERS`], the delivery timeout, panic catching.
    pub fn dispatcher(
        &self,
        config: Arc<Config>,
    ) -> Dispatcher<RotatorEvent, impl shared::Handler<RotatorEvent>> {
        let ledger = Ledger::with_pool(
            self.control.clone(),
            "secret-rotator",
            Duration::from_secs(60),
        );
        let options = DispatchOptions {
            ledger: Some(ledger),
            dead_letter_topic: DEAD_LETTERS.into(),
            timeout: Duration::from_secs(120),
        };
        let config = Arc::unwrap_or_clone(config);
        Dispatcher::new(secret_rotator::handler(config), self.ctx.clone(), options)
    }

    /// Delivers `raw` through [`Stack::dispatcher`] as Pub/Sub would: again while the
    /// decision is a retry (up to `attempts` times); returns every decision.
    pub async fn dispatch_until_settled(
        &self,
        config: Arc<Config>,
        raw: RawEvent,
        attempts: usize,
    ) -> Vec<Decision> {
        let dispatcher = self.dispatcher(config);
        let mut decisions = Vec::new();
        for _ in 0..attempts {
            let decision = dispatcher.dispatch_raw(raw.clone()).await;
            let retry = matches!(decision, Decision::Retry { .. });
            decisions.push(decision);
            if !retry {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        decisions
    }

    /// A secret with labels and one version aliased `current`.
    pub async fn create_secret(&self, name: &str, labels: &[(&str, &str)], payload: &str) {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.store.create_secret(name, &labels).await.unwrap();
        let v = self
            .store
            .add_version(name, &SecretString::from(payload.to_owned()))
            .await
            .unwrap();
        let info = self.store.get_secret(name).await.unwrap().unwrap();
        let aliases = [("current".to_string(), v)].into();
        self.store
            .update_aliases(name, &aliases, &info.etag)
            .await
            .unwrap();
    }

    /// Runs the handler on one event, as the runtime would after decoding it.
    pub async fn deliver_with(
        &self,
        config: Arc<Config>,
        raw: RawEvent,
    ) -> Result<Outcome, RotateError> {
        let event: Event<RotatorEvent> = raw.typed().expect("valid event");
        secret_rotator::handle(event, self.ctx.clone(), config).await
    }

    pub async fn deliver(
        &self,
        id: &str,
        ty: &str,
        data: serde_json::Value,
    ) -> Result<Outcome, RotateError> {
        self.deliver_with(self.config.clone(), raw(id, ty, data))
            .await
    }

    /// Asks for a rotation of `secret` with event `id`, redelivering (as Pub/Sub would)
    /// while the answer is "retry quietly", until it is done.
    pub async fn rotate(&self, secret: &SecretId, id: &str) -> Outcome {
        loop {
            match self.request(id, secret).await {
                Ok(outcome) => return outcome,
                Err(RotateError::Busy(_) | RotateError::Other(TooSoon { .. })) => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                Err(e) => panic!("rotation {id} of {secret}: {e}"),
            }
        }
    }

    /// The credential aliased `current`.
    pub async fn current(&self, secret: &SecretId) -> Credential {
        Credential::parse(&self.store.access(secret.as_str(), "current").await.unwrap()).unwrap()
    }

    /// The aliases of a secret.
    pub async fn aliases(&self, secret: &SecretId) -> std::collections::BTreeMap<String, u64> {
        self.info(secret).await.aliases
    }

    /// The secret's versions and aliases (it must exist).
    pub async fn info(&self, secret: &SecretId) -> shared::backends::secrets::SecretInfo {
        self.store
            .get_secret(secret.as_str())
            .await
            .unwrap()
            .unwrap()
    }

    /// Delivers a rotation request for `secret` with event `id`, once.
    pub async fn request(&self, id: &str, secret: &SecretId) -> Result<Outcome, RotateError> {
        self.deliver(id, REQUESTED, serde_json::json!({ "secret": secret }))
            .await
    }

    /// The events emitted so far, as (type, id, payload).
    pub fn emitted(&self) -> Vec<(String, String, serde_json::Value)> {
        self.published.events()
    }

    pub fn emitted_of(&self, ty: &str) -> Vec<serde_json::Value> {
        self.emitted()
            .into_iter()
            .filter(|(t, ..)| t == ty)
            .map(|(.., d)| d)
            .collect()
    }
}

/// Logs in with a credential exactly as a client would; `Err` carries the SQLSTATE.
pub async fn login(cred: &Credential) -> Result<(), String> {
    let options = cred.options(false).unwrap();
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) => db.code().unwrap_or_default().into_owned(),
            other => other.to_string(),
        })?;
    sqlx::query("SELECT 1")
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    conn.close().await.map_err(|e| e.to_string())
}

pub fn raw(id: &str, ty: &str, data: serde_json::Value) -> RawEvent {
    testbed::raw_event(id, ty, &data, None)
}

pub fn uuid() -> String {
    testbed::unique_name("x")
}

/// A unique environment name (≤ 30 characters).
pub fn env_name(prefix: &str) -> String {
    let unique = testbed::unique_name(prefix)
        .to_lowercase()
        .replace('_', "-");
    unique
        .chars()
        .take(30)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// The dead-letter topic of [`Stack::dispatcher`].
pub const DEAD_LETTERS: &str = "secret-rotator-dead-letter";

pub const REQUESTED: &str = "dev.groundskeeper.rotation.requested.v1";
pub const DUE: &str = "dev.groundskeeper.rotation.due.v1";
pub const ROTATED: &str = "dev.groundskeeper.secret.rotated.v1";
pub const FAILED: &str = "dev.groundskeeper.secret.rotation.failed.v1";
pub const OVERDUE: &str = "dev.groundskeeper.secret.rotation.overdue.v1";
pub const MANUAL: &str = "dev.groundskeeper.secret.rotation.manual_required.v1";

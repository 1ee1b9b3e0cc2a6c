//! A provisioner over real local components: a PostgreSQL cluster that checks passwords
//! (SCRAM for every role but the superuser), the control database, the local secret store,
//! a file object store (or Cloud Storage on fake-gcs-server), and a publisher that records
//! what was emitted.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(dead_code)] // each test file uses a different part

pub mod cloud_run;
pub mod gcs_labels;

use std::{collections::BTreeMap, ops::Deref, sync::Arc, time::Duration};

use env_provisioner::previews::{PreviewServices, Previews, SkippedPreviews};
use env_provisioner::{fault, Config, ProvisionError, ProvisionerEvent};
use events::names::EnvName;
use shared::backends::{
    databases::PostgresAdmin,
    object_store::{self, FileStore, ObjectStore},
    publisher::RecordingPublisher,
    secrets::LocalSecretStore,
    Plan,
};
use shared::dispatch::{DispatchOptions, Dispatcher};
use shared::ledger::Ledger;
use shared::{env::Env, Backends, Classify, Ctx, Disposition, Event, Outcome};
use testbed::ServiceStack;

/// The components ([`ServiceStack`], reached through `Deref`: `postgres`, `control`) and
/// the provisioner over them.
pub struct Stack {
    pub base: ServiceStack,
    pub admin: PostgresAdmin,
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

/// The service's dead-letter topic, as its deployment names it.
pub const DEAD_LETTER: &str = "env-provisioner-dead-letter";

impl Stack {
    /// One instance of the service as `shared::run` builds it: the dispatcher with the
    /// ledger on this control database and the dead-letter topic, over a handler of its own.
    pub fn dispatcher(
        &self,
        timeout: Duration,
    ) -> Dispatcher<ProvisionerEvent, impl shared::Handler<ProvisionerEvent>> {
        let config = self.config.clone();
        let handler = move |event: Event<ProvisionerEvent>, ctx: Ctx| {
            env_provisioner::handle(event, ctx, config.clone())
        };
        let options = DispatchOptions {
            ledger: Some(Ledger::with_pool(
                self.control.clone(),
                "env-provisioner",
                Duration::from_secs(60),
            )),
            dead_letter_topic: DEAD_LETTER.into(),
            timeout,
        };
        Dispatcher::new(handler, self.ctx.clone(), options)
    }

    pub async fn start(settings: &[(&str, &str)]) -> Self {
        Self::with_previews(settings, Arc::new(SkippedPreviews)).await
    }

    pub async fn with_previews(
        settings: &[(&str, &str)],
        previews: Arc<dyn PreviewServices>,
    ) -> Self {
        Self::build(settings, previews, None).await
    }

    /// With `OBJECT_STORE_URL` = `url` (`gs://…`) on the Cloud Storage emulator at `endpoint`.
    pub async fn on_gcs(settings: &[(&str, &str)], url: &str, endpoint: &str) -> Self {
        Self::build(settings, Arc::new(SkippedPreviews), Some((url, endpoint))).await
    }

    async fn build(
        settings: &[(&str, &str)],
        previews: Arc<dyn PreviewServices>,
        gcs: Option<(&str, &str)>,
    ) -> Self {
        let base = ServiceStack::builder()
            .migrations(
                shared::migrations::control_migrator(&env_provisioner::migrations::MIGRATOR)
                    .unwrap(),
            )
            .with_object_store()
            .build()
            .await;
        let admin = PostgresAdmin::connect_lazy(&base.admin_url().into(), None).expect("admin");
        let published = Arc::new(RecordingPublisher::new(Plan::default()));
        let (store, mut pairs): (Arc<dyn ObjectStore>, Vec<(&str, String)>) = match gcs {
            Some((url, endpoint)) => (
                object_store::from_url(url, Some(endpoint))
                    .await
                    .expect("gcs store"),
                vec![
                    ("OBJECT_STORE_URL", url.to_owned()),
                    ("STORAGE_EMULATOR_HOST", endpoint.to_owned()),
                ],
            ),
            None => (
                Arc::new(
                    FileStore::new(&base.objects_root())
                        .await
                        .expect("file store"),
                ),
                vec![("OBJECT_STORE_URL", base.objects_url())],
            ),
        };
        pairs.extend(settings.iter().map(|(k, v)| (*k, v.to_string())));
        let mut config = Config::from_env(&Env::from_pairs(pairs)).expect("config");
        config.previews = Previews::with_backend(previews);
        let config = Arc::new(config);
        let ctx = Ctx::new(Backends {
            service: "env-provisioner".into(),
            events_topic: "events".into(),
            publisher: published.clone(),
            control_db: Some(base.control.clone()),
            object_store: Some(store),
            secrets: Some(Arc::new(LocalSecretStore::new(base.control.clone()))),
            databases: Some(Arc::new(admin.clone())),
            plan: None,
        });
        Self {
            base,
            admin,
            published,
            config,
            ctx,
        }
    }

    /// Runs the handler on one event, as the runtime would after decoding it.
    pub async fn deliver(
        &self,
        id: &str,
        ty: &str,
        data: serde_json::Value,
    ) -> Result<Outcome, ProvisionError> {
        self.deliver_at(id, ty, data, None).await
    }

    /// [`Self::deliver`], published at `time` (Pub/Sub's `publishTime`).
    pub async fn deliver_at(
        &self,
        id: &str,
        ty: &str,
        data: serde_json::Value,
        time: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Outcome, ProvisionError> {
        let event = testbed::typed_event::<ProvisionerEvent>(id, ty, &data, time);
        env_provisioner::handle(event, self.ctx.clone(), self.config.clone()).await
    }

    /// Delivers `environment.requested` for `name` (the standard [`request`]) as event `id`.
    pub async fn request_env(&self, id: &str, name: &str) -> Result<Outcome, ProvisionError> {
        self.deliver(id, REQUESTED, request(name)).await
    }

    /// Delivers `environment.teardown.requested` for `name` as event `id`.
    pub async fn teardown_env(&self, id: &str, name: &str) -> Result<Outcome, ProvisionError> {
        self.deliver(id, TEARDOWN, serde_json::json!({ "name": name }))
            .await
    }

    /// Delivers the TTL sweep (always event `sweep-1`: every sweep is a redelivery of it).
    pub async fn sweep(&self) -> Result<Outcome, ProvisionError> {
        self.deliver("sweep-1", SWEEP, serde_json::json!({})).await
    }

    /// Makes environment `name`'s TTL end a minute ago.
    pub async fn expire(&self, name: &str) {
        sqlx::query(
            "UPDATE control.environments SET expires_at = now() - interval '1 minute' WHERE name = $1",
        )
        .bind(name)
        .execute(&self.control)
        .await
        .unwrap();
    }

    /// Stops a request for `name` at fault point `point`, then redelivers it (as a new
    /// delivery) and asserts that it completes.
    pub async fn crash_then_complete(&self, name: &str, point: &str) {
        fault::arm(&name.parse::<EnvName>().unwrap(), point);
        let err = self
            .request_env(&format!("{name}-1"), name)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ProvisionError::Injected(ref p) if p == point),
            "{point}: {err}"
        );
        assert_eq!(err.disposition(), Disposition::Retry { quiet: true });
        assert_eq!(
            self.request_env(&format!("{name}-2"), name).await.unwrap(),
            Outcome::Done,
            "{point}"
        );
    }

    /// The events emitted so far, as (type, payload).
    pub fn emitted(&self) -> Vec<(String, serde_json::Value)> {
        self.published
            .events()
            .into_iter()
            .map(|(ty, _, payload)| (ty, payload))
            .collect()
    }

    /// Everything that exists for environment `name`, for comparing end states.
    pub async fn footprint(&self, name: &str) -> BTreeMap<String, String> {
        let stem = format!("env_{}", name.replace('-', "_"));
        let roles: Vec<String> = sqlx::query_scalar(
            "SELECT rolname || ':' || rolcanlogin || ':' || coalesce(array_to_string(rolconfig, ','), '') FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1",
        )
        .bind(format!("{stem}%"))
        .fetch_all(self.admin.pool())
        .await
        .unwrap();
        let dbs: Vec<String> = sqlx::query_scalar(
            "SELECT datname || ':' || pg_get_userbyid(datdba) || ':' || datconnlimit || ':' || coalesce(datacl::text, '') FROM pg_database WHERE datname = $1",
        )
        .bind(&stem)
        .fetch_all(self.admin.pool())
        .await
        .unwrap();
        let secrets: Vec<String> = sqlx::query_scalar(
            "SELECT s.name || ':' || (s.labels - 'expires-at')::text || ':' || (SELECT count(*) FROM control.secret_aliases a WHERE a.secret = s.name) || ' aliases:' || (SELECT count(*) FROM control.secret_versions v WHERE v.secret = s.name) || ' versions' FROM control.secrets s WHERE s.name LIKE $1",
        )
        .bind(format!("%-{name}-db-credentials"))
        .fetch_all(&self.control)
        .await
        .unwrap();
        // A name known only by its tombstone (torn down before it was ever requested) reads
        // as deleted with nothing left: it has no environment row of its own.
        let row: Option<String> = sqlx::query_scalar::<_, Option<String>>(
            "SELECT coalesce( \
               (SELECT status || ':' || resources::text || ':' || (labels - 'expires-at')::text \
                  FROM control.environments WHERE name = $1), \
               (SELECT 'deleted:{}:{}' FROM control.environment_tombstones WHERE name = $1))",
        )
        .bind(name)
        .fetch_optional(&self.control)
        .await
        .unwrap()
        .flatten();
        let objects = walk(&self.objects_root().join("envs").join(name));
        BTreeMap::from([
            ("roles".into(), roles.join(" ")),
            ("databases".into(), dbs.join(" ")),
            ("secrets".into(), secrets.join(" ")),
            ("row".into(), row.unwrap_or_default()),
            ("objects".into(), objects.join(" ")),
        ])
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn request(name: &str) -> serde_json::Value {
    serde_json::json!({ "name": name, "owner": "ci@example.com", "tier": "ephemeral", "ttl": "2h" })
}

pub const REQUESTED: &str = "dev.groundskeeper.environment.requested.v1";
pub const TEARDOWN: &str = "dev.groundskeeper.environment.teardown.requested.v1";
pub const SWEEP: &str = "dev.groundskeeper.environment.ttl_sweep.v1";

//! [`ServiceStack`]: the real local components a service's tests run its handler over — a
//! PostgreSQL cluster, a migrated control database on it, and optionally a directory for the
//! file object store — plus [`typed_event`] to hand the handler a decoded delivery.
//!
//! It stops short of the runtime's types (`Ctx`, `Backends`, `RecordingPublisher`): those
//! live in `shared`, whose tests use this crate, and a `testbed → shared` dependency would
//! make a cycle in which `shared`'s unit tests see two different `shared` crates. Each
//! service's test support puts those few lines on top.

use std::path::{Path, PathBuf};

use events::{Event, Payload, RawEvent};
use sqlx::{migrate::Migrator, postgres::PgPoolOptions, PgPool};

use crate::Postgres;

/// How the cluster authenticates roles other than the superuser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PgAuth {
    /// As Cloud SQL does: every role but `postgres` logs in with its SCRAM password.
    #[default]
    Passwords,
    /// Anyone may log in as anyone (PostgreSQL's `trust`).
    Trust,
}

/// How a [`ServiceStack`] is set up; start from [`ServiceStack::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct ServiceStackBuilder {
    auth: PgAuth,
    migrator: Option<Migrator>,
    object_store: bool,
}

impl ServiceStackBuilder {
    /// How the cluster authenticates (default: [`PgAuth::Passwords`]).
    pub fn postgres(mut self, auth: PgAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The migrations the control database gets before the test starts, as a deploy's
    /// `SERVICE migrate` applies them (for a service: the runtime's and its own, merged).
    pub fn migrations(mut self, migrator: Migrator) -> Self {
        self.migrator = Some(migrator);
        self
    }

    /// A temporary directory for a file object store (see [`ServiceStack::objects_root`]).
    pub fn with_object_store(mut self) -> Self {
        self.object_store = true;
        self
    }

    /// Starts PostgreSQL, creates and migrates a fresh control database.
    pub async fn build(self) -> ServiceStack {
        let postgres = Postgres::start().await;
        if self.auth == PgAuth::Passwords {
            postgres.require_passwords().await;
        }
        let control_url = postgres.fresh_database().await;
        // As the runtime builds it (`shared::db::connect_lazy`, crate-private): connected on
        // first use, 8 connections, so tests meet production's limit.
        let control = PgPoolOptions::new()
            .max_connections(8)
            .connect_lazy(&control_url)
            .expect("control database URL");
        if let Some(migrator) = &self.migrator {
            migrator
                .run(&control)
                .await
                .expect("migrate the control database");
        }
        let objects = self
            .object_store
            .then(|| tempfile::tempdir().expect("temp dir for objects"));
        ServiceStack {
            postgres,
            control,
            control_url,
            objects,
        }
    }
}

/// A PostgreSQL cluster with a migrated control database (and perhaps an objects directory),
/// all removed when dropped.
#[derive(Debug)]
pub struct ServiceStack {
    /// The cluster: the control database and the managed databases live on it.
    pub postgres: Postgres,
    /// The control database, migrated.
    pub control: PgPool,
    /// The control database's URL (superuser).
    pub control_url: String,
    objects: Option<tempfile::TempDir>,
}

impl ServiceStack {
    /// A builder with the defaults: passwords required, no migrations, no object store.
    pub fn builder() -> ServiceStackBuilder {
        ServiceStackBuilder::default()
    }

    /// The managed server's superuser URL (what `MANAGED_DATABASE_URL` names).
    pub fn admin_url(&self) -> String {
        self.postgres.admin_url()
    }

    /// The object store's temp dir, removed on drop. Needs `with_object_store`.
    pub fn objects_dir(&self) -> &Path {
        let dir = self.objects.as_ref();
        dir.expect("built without with_object_store()").path()
    }

    /// The file object store's root, `<temp dir>/objects`: a directory of its own, so buckets
    /// (directories beside the root) stay inside the temp dir.
    pub fn objects_root(&self) -> PathBuf {
        self.objects_dir().join("objects")
    }

    /// [`Self::objects_root`] as an `OBJECT_STORE_URL`.
    pub fn objects_url(&self) -> String {
        format!("file://{}", self.objects_root().display())
    }
}

/// What a deploy's migrate step checks and does, on [`ServiceStack::control`].
impl ServiceStack {
    /// The migrations applied to the control database, in version order: (version, the
    /// checksum sqlx recorded, hex).
    pub async fn applied_migrations(&self) -> Vec<(i64, String)> {
        sqlx::query_as(
            "SELECT version, encode(checksum, 'hex') FROM _sqlx_migrations \
             WHERE success ORDER BY version",
        )
        .fetch_all(&self.control)
        .await
        .expect("read _sqlx_migrations")
    }

    /// The tables of `schema` in the control database, sorted.
    pub async fn tables(&self, schema: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = $1 ORDER BY 1",
        )
        .bind(schema)
        .fetch_all(&self.control)
        .await
        .expect("list tables")
    }

    /// Runs `BINARY migrate` on the control database as a deploy's job does (only
    /// `DATABASE_URL` set); panics with its stderr unless it succeeds.
    pub async fn migrate_with(&self, binary: &str) {
        let out = tokio::process::Command::new(binary)
            .arg("migrate")
            .env_clear()
            .env("DATABASE_URL", &self.control_url)
            .output()
            .await
            .unwrap_or_else(|e| panic!("run {binary} migrate: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{binary} migrate: {}: {stderr}",
            out.status
        );
    }
}

/// A delivery of type `ty` with JSON `data` as the runtime hands it to a handler after
/// decoding: event id `id`, published at `time` (Pub/Sub's `publishTime`) when given.
/// Panics when `data` does not decode as `T` (a test's own mistake).
pub fn typed_event<T: Payload>(
    id: &str,
    ty: &str,
    data: &serde_json::Value,
    time: Option<chrono::DateTime<chrono::Utc>>,
) -> Event<T> {
    raw_event(id, ty, data, time)
        .typed()
        .unwrap_or_else(|e| panic!("{ty} {id} does not decode: {e}"))
}

/// [`typed_event`] before decoding, for tests that go through the runtime's dispatcher.
pub fn raw_event(
    id: &str,
    ty: &str,
    data: &serde_json::Value,
    time: Option<chrono::DateTime<chrono::Utc>>,
) -> RawEvent {
    let body = serde_json::to_vec(data).expect("JSON serializes");
    RawEvent {
        id: id.to_owned(),
        time,
        ..events::delivery::bare(ty, body)
    }
}

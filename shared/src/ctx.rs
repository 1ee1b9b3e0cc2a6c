//! What a handler gets besides its event: the backends, built once at start-up.

use std::sync::Arc;

use events::OutgoingEvent;
use sqlx::PgPool;

use crate::backends::{
    databases::DatabaseAdmin, object_store::ObjectStore, publisher::PublishError,
    publisher::Publisher, secrets::SecretStore, Plan,
};

/// A backend the handler asked for is not configured.
#[derive(Debug, thiserror::Error)]
#[error("{backend} is not configured: set {variable}")]
pub struct MissingBackend {
    /// Which backend.
    pub backend: &'static str,
    /// The variable that configures it.
    pub variable: &'static str,
}

/// The backends a service reaches, shared by every delivery.
#[derive(Clone)]
pub struct Backends {
    /// The service's name (`K_SERVICE`); the `source` of the events it emits.
    pub service: String,
    /// Where follow-up events go.
    pub events_topic: String,
    /// The event bus.
    pub publisher: Arc<dyn Publisher>,
    /// The control database, when configured.
    pub control_db: Option<PgPool>,
    /// Object storage, when configured.
    pub object_store: Option<Arc<dyn ObjectStore>>,
    /// The secret store, when configured.
    pub secrets: Option<Arc<dyn SecretStore>>,
    /// The managed PostgreSQL server (environments' databases), when configured.
    pub databases: Option<Arc<dyn DatabaseAdmin>>,
    /// Set in a dry run: backends record into it instead of acting. A service that builds
    /// backends of its own swaps them for recording ones when it is set ([`Ctx::plan`]).
    pub plan: Option<Plan>,
}

/// A handler's context. Cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    backends: Arc<Backends>,
}

impl Ctx {
    /// A context over the given backends.
    pub fn new(backends: Backends) -> Self {
        Self {
            backends: Arc::new(backends),
        }
    }

    /// The service's name.
    pub fn service(&self) -> &str {
        &self.backends.service
    }

    /// The event bus.
    pub fn publisher(&self) -> &Arc<dyn Publisher> {
        &self.backends.publisher
    }

    /// Publishes a follow-up event to the events topic; returns the message id.
    pub async fn emit(&self, event: OutgoingEvent) -> Result<String, PublishError> {
        self.backends
            .publisher
            .publish(&self.backends.events_topic, event.into_message())
            .await
    }

    /// The CloudEvents `source` for events this service emits.
    pub fn source(&self) -> String {
        format!("//groundskeeper/{}", self.backends.service)
    }

    /// The control database.
    pub fn control_db(&self) -> Result<&PgPool, MissingBackend> {
        self.backends.control_db.as_ref().ok_or(MissingBackend {
            backend: "the control database",
            variable: "DATABASE_URL",
        })
    }

    /// Object storage.
    pub fn object_store(&self) -> Result<&Arc<dyn ObjectStore>, MissingBackend> {
        self.backends.object_store.as_ref().ok_or(MissingBackend {
            backend: "object storage",
            variable: "OBJECT_STORE_URL",
        })
    }

    /// The secret store.
    pub fn secrets(&self) -> Result<&Arc<dyn SecretStore>, MissingBackend> {
        self.backends.secrets.as_ref().ok_or(MissingBackend {
            backend: "the secret store",
            variable: "SECRET_STORE=secret-manager, or DATABASE_URL for the local store",
        })
    }

    /// The managed PostgreSQL server whose databases and roles services administer.
    pub fn databases(&self) -> Result<&Arc<dyn DatabaseAdmin>, MissingBackend> {
        self.backends.databases.as_ref().ok_or(MissingBackend {
            backend: "the managed database server",
            variable: "MANAGED_DATABASE_URL",
        })
    }

    /// True in a dry run (`replay --dry-run`): nothing may be changed, only planned.
    pub fn is_dry_run(&self) -> bool {
        self.backends.plan.is_some()
    }

    /// The dry run's plan, where handlers record actions that no backend covers.
    pub fn plan(&self) -> Option<&Plan> {
        self.backends.plan.as_ref()
    }
}

//! The resources a budget may scale: Cloud Run services of the configured locations, Cloud
//! SQL instances of the configured projects, and the ready environments' databases (read
//! through env-provisioner's inventory, labelled from the environment's record).

use std::sync::Arc;

use events::downscale::TargetKind;
use events::labels::{Labels, ENVIRONMENT, MANAGED_BY, MANAGED_BY_VALUE, TIER};
use shared::Ctx;

use crate::backends::cloud_run::CloudRun;
use crate::backends::cloud_sql::CloudSql;
use crate::backends::database::Databases;
use crate::backends::erased::Erased;
use crate::backends::{AnyBackend, BackendError};

/// One resource that may be in scope.
pub struct Target {
    /// The backend that changes it.
    pub backend: Arc<dyn AnyBackend>,
    /// Its full name.
    pub name: String,
    /// Its labels when they do not live on the resource (an environment's database: from
    /// the environment's record); `None`: read from its settings.
    pub labels: Option<Labels>,
}

/// The configured backends, and where each lists its resources.
#[derive(Default)]
pub struct Scope {
    cloud_run: Option<(CloudRun, Arc<dyn AnyBackend>, Vec<String>)>,
    cloud_sql: Option<(CloudSql, Arc<dyn AnyBackend>, Vec<String>)>,
    databases: Option<Arc<dyn AnyBackend>>,
}

impl Scope {
    /// With Cloud Run services listed in `locations` (`projects/P/locations/R`).
    pub fn with_cloud_run(mut self, client: CloudRun, locations: Vec<String>) -> Self {
        let backend = Arc::new(Erased {
            kind: TargetKind::CloudRunService,
            backend: client.clone(),
        });
        self.cloud_run = Some((client, backend, locations));
        self
    }

    /// With the Cloud SQL instances of `projects`.
    pub fn with_cloud_sql(mut self, client: CloudSql, projects: Vec<String>) -> Self {
        let backend = Arc::new(Erased {
            kind: TargetKind::CloudSqlInstance,
            backend: client.clone(),
        });
        self.cloud_sql = Some((client, backend, projects));
        self
    }

    /// With the environments' databases on the server `databases` administers.
    pub fn with_databases(mut self, databases: Databases) -> Self {
        self.databases = Some(Arc::new(Erased {
            kind: TargetKind::Database,
            backend: databases,
        }));
        self
    }

    /// The backend for a journaled kind, if configured.
    pub fn backend(&self, kind: &str) -> Option<Arc<dyn AnyBackend>> {
        match kind {
            k if k == kind_name(TargetKind::CloudRunService) => {
                self.cloud_run.as_ref().map(|(_, b, _)| b.clone())
            }
            k if k == kind_name(TargetKind::CloudSqlInstance) => {
                self.cloud_sql.as_ref().map(|(_, b, _)| b.clone())
            }
            k if k == kind_name(TargetKind::Database) => self.databases.clone(),
            _ => None,
        }
    }

    /// Every resource of every configured backend; the protection rule is applied later,
    /// on the labels read with the settings.
    pub async fn targets(&self, ctx: &Ctx) -> Result<Vec<Target>, ScopeError> {
        let mut targets = Vec::new();
        if let Some((client, backend, locations)) = &self.cloud_run {
            for location in locations {
                targets.extend(listed(backend, client.list(location).await?));
            }
        }
        if let Some((client, backend, projects)) = &self.cloud_sql {
            for project in projects {
                targets.extend(listed(backend, client.list(project).await?));
            }
        }
        if let Some(backend) = &self.databases {
            let environments = env_provisioner::inventory::list(ctx.control_db()?).await?;
            for env in environments.iter().filter(|e| e.is_ready()) {
                let Ok(name) = env.name.parse::<events::names::EnvName>() else {
                    continue;
                };
                let labels = Labels::from([
                    (MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned()),
                    (TIER.to_owned(), env.tier.as_str().to_owned()),
                    (ENVIRONMENT.to_owned(), env.name.clone()),
                ]);
                targets.push(Target {
                    backend: backend.clone(),
                    name: name.database().as_str().to_owned(),
                    labels: Some(labels),
                });
            }
        }
        Ok(targets)
    }
}

fn listed(backend: &Arc<dyn AnyBackend>, names: Vec<String>) -> impl Iterator<Item = Target> + '_ {
    names.into_iter().map(|name| Target {
        backend: backend.clone(),
        name,
        labels: None,
    })
}

/// The kind as the journal and the events spell it.
pub fn kind_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::CloudRunService => "cloud-run-service",
        TargetKind::CloudSqlInstance => "cloud-sql-instance",
        TargetKind::Database => "database",
    }
}

/// Why the scope could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// A list call failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The inventory could not be read.
    #[error("environment inventory: {0}")]
    Inventory(#[from] sqlx::Error),
    /// No control database.
    #[error(transparent)]
    Missing(#[from] shared::MissingBackend),
}

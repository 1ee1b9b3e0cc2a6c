//! The handler's state: the configuration and the backends, built on the first delivery
//! (the Google clients need credentials the process may only get at run time).

use google_cloud_run_v2::client::Services;
use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
use secrecy::ExposeSecret as _;
use shared::Ctx;
use tokio::sync::OnceCell;

use crate::backends::cloud_run::CloudRun;
use crate::backends::cloud_sql::CloudSql;
use crate::backends::database::Databases;
use crate::backends::STOP_POLLING;
use crate::config::Config;
use crate::error::{GuardError, GuardStep};
use crate::scope::Scope;

/// Configuration and backends, shared by every delivery.
pub struct Guard {
    /// The settings.
    pub config: Config,
    scope: OnceCell<Scope>,
}

impl Guard {
    /// Backends built from `config` on first use.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            scope: OnceCell::new(),
        }
    }

    /// Over given backends (tests: clients built on the crates' stubs).
    pub fn with_scope(config: Config, scope: Scope) -> Self {
        Self {
            config,
            scope: OnceCell::new_with(Some(scope)),
        }
    }

    /// Whether this delivery only plans (`DRY_RUN`, or `replay --dry-run`).
    pub fn is_dry_run(&self, ctx: &Ctx) -> bool {
        self.config.dry_run || ctx.is_dry_run()
    }

    /// The backends.
    pub async fn scope(&self) -> Result<&Scope, GuardError> {
        self.scope
            .get_or_try_init(|| build(&self.config))
            .await
            .map_err(|reason| GuardError::Transient {
                subject: "budget-guard".into(),
                step: GuardStep::Scope,
                reason,
            })
    }
}

async fn build(config: &Config) -> Result<Scope, String> {
    let mut scope = Scope::default();
    if !config.cloud_run_locations.is_empty() {
        let client = Services::builder().build().await;
        let client = client.map_err(|e| format!("Cloud Run client: {e}"))?;
        scope = scope.with_cloud_run(CloudRun::new(client), config.cloud_run_locations.clone());
    }
    if !config.cloud_sql_projects.is_empty() {
        let instances = SqlInstancesService::builder().build().await;
        let instances = instances.map_err(|e| format!("Cloud SQL client: {e}"))?;
        let operations = SqlOperationsService::builder().build().await;
        let operations = operations.map_err(|e| format!("Cloud SQL client: {e}"))?;
        let sql = CloudSql::new(instances, operations, STOP_POLLING);
        scope = scope.with_cloud_sql(sql, config.cloud_sql_projects.clone());
    }
    if let Some(url) = &config.managed_database_url {
        // The variable's name only: the URL holds a password.
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_lazy(url.expose_secret())
            .map_err(|_| "MANAGED_DATABASE_URL: not a PostgreSQL URL".to_owned())?;
        scope = scope.with_databases(Databases::new(admin));
    }
    Ok(scope)
}

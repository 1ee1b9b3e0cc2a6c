//! Cloud SQL for PostgreSQL exports through the Admin API (`instances.export`, offloaded),
//! for instances backup-runner has no network path to.

use chrono::{DateTime, Utc};
use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
use google_cloud_sql_v1::model::operation::SqlOperationStatus;
use google_cloud_sql_v1::model::{
    ExportContext, InstancesExportRequest, Operation, SqlFileType, SqlInstancesExportRequest,
};
use shared::backends::object_store::ObjectStore;

use super::config::CloudSqlDatabase;
use super::error::ManagedError;
use super::layout::ExportBucket;
use super::locks::InstanceLocks;
use super::once::{export_once, ExportTarget, Finished};
use super::poll::{not_finished, Polling};
use super::report::{ExportKind, ExportReport};
use shared::poll::poll_until;

/// Exports Cloud SQL databases, one operation per instance at a time in this process.
#[derive(Debug)]
pub struct CloudSqlExporter {
    instances: SqlInstancesService,
    operations: SqlOperationsService,
    polling: Polling,
    locks: InstanceLocks,
}

impl CloudSqlExporter {
    /// An exporter using these clients (real, or `from_stub` in tests).
    pub fn new(
        instances: SqlInstancesService,
        operations: SqlOperationsService,
        polling: Polling,
    ) -> Self {
        Self {
            instances,
            operations,
            polling,
            locks: InstanceLocks::default(),
        }
    }

    /// Exports `db` for `window` to its object in `bucket`, unless that object exists.
    /// `store` is the bucket itself (keys include the bucket's prefix).
    pub async fn export(
        &self,
        store: &dyn ObjectStore,
        bucket: &ExportBucket,
        db: &CloudSqlDatabase,
        window: DateTime<Utc>,
    ) -> Result<ExportReport, ManagedError> {
        let target = ExportTarget {
            kind: ExportKind::CloudSql,
            instance: format!("{}:{}", db.project, db.instance),
            database: Some(db.database.as_str().to_owned()),
            key: bucket.cloud_sql_key(db, window),
        };
        let request = export_request(db, &bucket.uri(&target.key));
        let instance = target.instance.clone();
        export_once(&self.locks, store, target, || async move {
            let started = (self.instances.export().with_request(request).send().await)
                .map_err(|e| ManagedError::from_api(&instance, "instances.export", e))?;
            let done = self.wait(&db.project, &instance, started).await?;
            Ok(match failure(&done) {
                Some((code, message)) => Finished::Failed {
                    operation: done.name,
                    code,
                    message,
                },
                None => Finished::Succeeded {
                    operation: done.name,
                },
            })
        })
        .await
    }

    /// Polls `operation` until DONE (Cloud SQL's operations have no LRO poller).
    async fn wait(
        &self,
        project: &str,
        instance: &str,
        operation: Operation,
    ) -> Result<Operation, ManagedError> {
        if operation.status == SqlOperationStatus::Done {
            return Ok(operation);
        }
        let polled = poll_until(self.polling, || async {
            let current = (self.operations.get())
                .set_project(project)
                .set_operation(&operation.name)
                .send()
                .await
                .map_err(|e| ManagedError::from_api(instance, "operations.get", e))?;
            Ok((current.status == SqlOperationStatus::Done).then_some(current))
        })
        .await;
        polled.map_err(|e| not_finished(e, instance, &operation.name))
    }
}

/// The export of one database as gzipped SQL, offloaded (a temporary instance does the
/// work, so the primary's load is untouched).
fn export_request(db: &CloudSqlDatabase, uri: &str) -> SqlInstancesExportRequest {
    let context = ExportContext::new()
        .set_uri(uri)
        .set_databases([db.database.as_str()])
        .set_file_type(SqlFileType::Sql)
        .set_offload(true);
    SqlInstancesExportRequest::new()
        .set_project(&db.project)
        .set_instance(&db.instance)
        .set_body(InstancesExportRequest::new().set_export_context(context))
}

/// The first error of a DONE operation: DONE says it ended, not that it succeeded.
fn failure(done: &Operation) -> Option<(String, String)> {
    let errors = done.error.as_ref()?;
    let first = errors.errors.first();
    Some(first.map_or_else(
        || {
            (
                "UNKNOWN".to_owned(),
                "the operation reported an empty error".to_owned(),
            )
        },
        |e| (e.code.clone(), e.message.clone()),
    ))
}

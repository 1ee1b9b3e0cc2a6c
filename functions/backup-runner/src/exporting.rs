//! Managed exports in the window: one `backup.export.requested` per configured entry, each
//! its own delivery; the export, then a manifest beside it with the checksums read back
//! from the bucket, then (Cloud SQL, where a verification server is configured) an import
//! into a scratch database recorded beside it, then `backup.exported` (or `backup.failed`
//! step `verify` when the export does not import).

mod steps;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::backup::{BackupExported, BackupFailed, ExportRequested};
use events::names::EnvName;
use shared::backends::object_store::ObjectStore;
use shared::{Ctx, Outcome};

use crate::config::Config;
use crate::error::{BackupError, BackupStep};
use crate::managed::{
    CloudSqlDatabase, CloudSqlExporter, RedisExporter, RedisInstance, EXPORT_POLLING,
};
use crate::publish;
use crate::verify::ExportVerification;
use crate::verifying::admin_target;
use steps::{describe, described, exists, import, read_record};

/// The exporters and the export bucket, built once per process on first use (so an
/// instance without managed exports builds no Google client).
pub struct Exporters {
    /// Cloud SQL, when `CLOUDSQL_EXPORTS` is set.
    pub cloud_sql: Option<CloudSqlExporter>,
    /// Memorystore, when `REDIS_EXPORTS` is set.
    pub redis: Option<RedisExporter>,
    /// The export bucket (`MANAGED_EXPORT_BUCKET`), rooted at the bucket itself.
    pub bucket: Arc<dyn ObjectStore>,
}

impl Exporters {
    /// The production exporters for `config`, or `None` when nothing is configured.
    pub async fn connect(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(bucket) = &config.managed.bucket else {
            return Ok(None);
        };
        let emulator = config.storage_emulator_host.as_deref();
        let store =
            shared::backends::object_store::from_url(&format!("gs://{}", bucket.bucket), emulator)
                .await?;
        let cloud_sql = if config.managed.cloud_sql.is_empty() {
            None
        } else {
            use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
            Some(CloudSqlExporter::new(
                SqlInstancesService::builder().build().await?,
                SqlOperationsService::builder().build().await?,
                EXPORT_POLLING,
            ))
        };
        let redis = if config.managed.redis.is_empty() {
            None
        } else {
            let client = google_cloud_redis_v1::client::CloudRedis::builder()
                .build()
                .await?;
            Some(RedisExporter::new(client, EXPORT_POLLING))
        };
        Ok(Some(Self {
            cloud_sql,
            redis,
            bucket: store,
        }))
    }
}

/// Every configured entry, as `backup.export.requested` names it.
pub fn entries(config: &Config) -> Vec<String> {
    let sql = config.managed.cloud_sql.iter().map(|db| {
        format!(
            "{}:{}:{}",
            db.project(),
            db.instance(),
            db.database().as_str()
        )
    });
    sql.chain(config.managed.redis.iter().map(RedisInstance::name))
        .collect()
}

/// Runs one export of `request.window`, once: the export, its manifest, then (Cloud SQL,
/// where a verification server is configured) its import into a scratch database, each
/// step skipped on a redelivery that finds its result in the bucket.
pub async fn export(
    ctx: &Ctx,
    config: &Config,
    exporters: Option<&Exporters>,
    request: &ExportRequested,
    event_id: &str,
) -> Result<Outcome, BackupError> {
    let (Some(exporters), Some(bucket)) = (exporters, &config.managed.bucket) else {
        return Err(BackupError::Rejected(
            "no managed exports are configured here".into(),
        ));
    };
    let mut sql_db = None;
    let report = if let Ok(db) = request.export.parse::<CloudSqlDatabase>() {
        match (&exporters.cloud_sql, config.managed.cloud_sql.contains(&db)) {
            (Some(exporter), true) => {
                let report = exporter
                    .export(exporters.bucket.as_ref(), bucket, &db, request.window)
                    .await;
                sql_db = Some(db);
                report
            }
            _ => return Err(not_configured(request)),
        }
    } else if let Ok(redis) = request.export.parse::<RedisInstance>() {
        match (&exporters.redis, config.managed.redis.contains(&redis)) {
            (Some(exporter), true) => {
                exporter
                    .export(exporters.bucket.as_ref(), bucket, &redis, request.window)
                    .await
            }
            _ => return Err(not_configured(request)),
        }
    } else {
        return Err(not_configured(request));
    };
    let report = report.map_err(|e| {
        if e.is_retryable() {
            BackupError::Transient {
                subject: request.export.clone(),
                step: BackupStep::Export,
                reason: e.to_string(),
            }
        } else {
            BackupError::Failed {
                subject: request.export.clone(),
                step: BackupStep::Export,
                reason: e.to_string(),
            }
        }
    })?;
    let store = exporters.bucket.as_ref();
    // Only a Cloud SQL export (SQL) can be imported, and only where a server is configured.
    let importing = sql_db.filter(|_| has_verification_server(config));
    let record_key = ExportVerification::key_of(&report.object_key);
    let sums = match described(store, request, &report).await? {
        Some(sums) => {
            // Described already: done, unless the import after the manifest never finished
            // (a crash, a retry), which this delivery resumes.
            if importing.is_none() || exists(store, request, &record_key).await? {
                return Ok(Outcome::Ignored(format!(
                    "{} is exported and described already",
                    report.object_key
                )));
            }
            sums
        }
        None => describe(store, request, &report).await?,
    };
    if let Some(db) = importing {
        let record = match read_record(store, request, &record_key).await? {
            Some(record) => record,
            None => import(store, config, request, &report, &admin_target(config)?).await?,
        };
        if !record.passed {
            // An export that does not import is a finding, not a bad event: recorded,
            // announced, acked.
            let failed = BackupFailed {
                environment: db.instance().parse().unwrap_or_else(|_| cloudsql_env()),
                database: Some(db.database().clone()),
                backup_id: Some(bucket.uri(&report.object_key)),
                step: BackupStep::Verify.as_str().to_owned(),
                reason: record
                    .reason
                    .unwrap_or_else(|| "the export did not import".into()),
            };
            publish::event(ctx, format!("{event_id}/failed"), &failed).await?;
            return Ok(Outcome::Done);
        }
    }
    let exported = BackupExported {
        kind: serde_json::to_value(report.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        instance: report.instance.clone(),
        database: report.database.clone(),
        location: bucket.uri(&report.object_key),
        size_bytes: sums.size,
        sha256: sums.sha256,
    };
    publish::event(ctx, format!("{event_id}/exported"), &exported).await?;
    Ok(Outcome::Done)
}

/// Publishes one request per configured export of `window` to the runner's own topic.
pub async fn fan_out(ctx: &Ctx, config: &Config, window: DateTime<Utc>) -> Result<(), BackupError> {
    for export in entries(config) {
        let request = ExportRequested { export, window };
        let id = events::TypedEvent::idempotency_key(&request).unwrap_or_default();
        publish::to_self(ctx, config, id, &request).await?;
    }
    Ok(())
}

fn not_configured(request: &ExportRequested) -> BackupError {
    BackupError::Rejected(format!(
        "export {:?} is not in CLOUDSQL_EXPORTS or REDIS_EXPORTS; only configured instances are exported",
        request.export
    ))
}

/// Whether a server to import into is configured (as for our own dumps' verification).
fn has_verification_server(config: &Config) -> bool {
    config.verify_database_url.is_some() || config.managed_database_url.is_some()
}

/// `backup.failed` names an environment; a Cloud SQL instance whose ID is no environment
/// name (longer than 30 characters) is filed under `cloudsql`.
fn cloudsql_env() -> EnvName {
    EnvName::try_from("cloudsql".to_owned()).unwrap_or_else(|_| unreachable!("a valid name"))
}

fn transient(request: &ExportRequested, e: &dyn std::fmt::Display) -> BackupError {
    BackupError::Transient {
        subject: request.export.clone(),
        step: BackupStep::Export,
        reason: e.to_string(),
    }
}

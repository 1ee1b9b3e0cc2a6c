//! Managed exports in the window: one `backup.export.requested` per configured entry, each
//! its own delivery; the export, then a manifest beside it with the checksums read back
//! from the bucket, then `backup.exported`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::backup::{BackupExported, ExportRequested};
use serde::Serialize;
use shared::backends::object_store::{ObjectStore, StoreError};
use shared::{Ctx, Outcome};

use crate::config::Config;
use crate::dump::hash_stream;
use crate::error::{BackupError, BackupStep};
use crate::managed::{
    CloudSqlDatabase, CloudSqlExporter, ExportReport, RedisExporter, RedisInstance, EXPORT_POLLING,
};
use crate::publish;

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

/// The manifest beside a managed export: what the managed service wrote, checked here.
#[derive(Debug, Serialize)]
struct ExportManifest<'a> {
    format: u32,
    #[serde(flatten)]
    report: &'a ExportReport,
    window: DateTime<Utc>,
    sha256: String,
    crc32c: u32,
    checked_at: DateTime<Utc>,
}

/// Runs one export of `request.window`, once.
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
    let report = if let Ok(db) = request.export.parse::<CloudSqlDatabase>() {
        match (&exporters.cloud_sql, config.managed.cloud_sql.contains(&db)) {
            (Some(exporter), true) => {
                exporter
                    .export(exporters.bucket.as_ref(), bucket, &db, request.window)
                    .await
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
    let manifest_key = format!("{}.manifest.json", report.object_key);
    if store
        .head(&manifest_key)
        .await
        .map_err(|e| transient(request, &e))?
        .is_some()
    {
        return Ok(Outcome::Ignored(format!(
            "{} is exported and described already",
            report.object_key
        )));
    }
    let mut object = store
        .get_stream(&report.object_key)
        .await
        .map_err(|e| transient(request, &e))?
        .ok_or_else(|| transient(request, &"the export vanished before it was checked"))?;
    let summary = hash_stream(&mut object)
        .await
        .map_err(|e| transient(request, &e))?;
    let manifest = ExportManifest {
        format: 1,
        report: &report,
        window: request.window,
        sha256: summary.sha256_hex.clone(),
        crc32c: summary.crc32c,
        checked_at: Utc::now(),
    };
    let body = Box::new(std::io::Cursor::new(
        serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
    ));
    match store
        .put_stream_if_absent(&manifest_key, body, "application/json")
        .await
    {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
        Err(e) => return Err(transient(request, &e)),
    }
    let exported = BackupExported {
        kind: serde_json::to_value(report.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        instance: report.instance.clone(),
        database: report.database.clone(),
        location: bucket.uri(&report.object_key),
        size_bytes: summary.size,
        sha256: summary.sha256_hex,
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

fn transient(request: &ExportRequested, e: &dyn std::fmt::Display) -> BackupError {
    BackupError::Transient {
        subject: request.export.clone(),
        step: BackupStep::Export,
        reason: e.to_string(),
    }
}

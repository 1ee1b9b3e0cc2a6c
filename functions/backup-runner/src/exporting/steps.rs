//! The steps after a managed export, each leaving its result in the bucket so a redelivery
//! finds it: the manifest (checksums read back), and the import's verification record.

use chrono::{DateTime, Utc};
use events::backup::ExportRequested;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use shared::backends::object_store::{ObjectStore, StoreError};

use super::transient;
use crate::config::Config;
use crate::dump::{hash_stream, Target};
use crate::error::{BackupError, BackupStep};
use crate::managed::ExportReport;
use crate::store::BackupId;
use crate::verify::{drop_leftover_scratch, import_export, ExportVerification};

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

/// What `backup.exported` repeats of the manifest.
#[derive(Debug, Deserialize)]
pub(super) struct Sums {
    pub size: u64,
    pub sha256: String,
}

fn manifest_key(report: &ExportReport) -> String {
    format!("{}.manifest.json", report.object_key)
}

/// The manifest's sums, if the export is described already.
pub(super) async fn described(
    store: &dyn ObjectStore,
    request: &ExportRequested,
    report: &ExportReport,
) -> Result<Option<Sums>, BackupError> {
    read_json(store, request, &manifest_key(report), "manifest").await
}

/// Reads the export back, writes its manifest (if absent) and returns its sums.
pub(super) async fn describe(
    store: &dyn ObjectStore,
    request: &ExportRequested,
    report: &ExportReport,
) -> Result<Sums, BackupError> {
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
        report,
        window: request.window,
        sha256: summary.sha256_hex.clone(),
        crc32c: summary.crc32c,
        checked_at: Utc::now(),
    };
    let body = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    put_if_absent(store, request, &manifest_key(report), body).await?;
    Ok(Sums {
        size: summary.size,
        sha256: summary.sha256_hex,
    })
}

/// Whether `key` exists.
pub(super) async fn exists(
    store: &dyn ObjectStore,
    request: &ExportRequested,
    key: &str,
) -> Result<bool, BackupError> {
    let head = store.head(key).await.map_err(|e| transient(request, &e))?;
    Ok(head.is_some())
}

/// The verification record at `key`, if one was written.
pub(super) async fn read_record(
    store: &dyn ObjectStore,
    request: &ExportRequested,
    key: &str,
) -> Result<Option<ExportVerification>, BackupError> {
    read_json(store, request, key, "verification record").await
}

/// The JSON object at `key`, if any; one we cannot read is not ours to go on from.
async fn read_json<T: DeserializeOwned>(
    store: &dyn ObjectStore,
    request: &ExportRequested,
    key: &str,
    what: &str,
) -> Result<Option<T>, BackupError> {
    let Some(bytes) = store.get(key).await.map_err(|e| transient(request, &e))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| BackupError::Rejected(format!("{key}: unreadable {what}: {e}")))
}

/// Imports the export into a scratch database on `admin`'s server and writes the record
/// (if absent: another replica's record of the same export says the same).
pub(super) async fn import(
    store: &dyn ObjectStore,
    config: &Config,
    request: &ExportRequested,
    report: &ExportReport,
    admin: &Target,
) -> Result<ExportVerification, BackupError> {
    // An import that crashed left its scratch database; clear those first.
    if let Err(e) = drop_leftover_scratch(admin).await {
        tracing::warn!(error = %e, "leftover scratch databases not dropped");
    }
    let object = store
        .get_stream(&report.object_key)
        .await
        .map_err(|e| transient(request, &e))?
        .ok_or_else(|| transient(request, &"the export vanished before it was imported"))?;
    let id = BackupId::for_window(request.window);
    let imported = import_export(
        object,
        &report.object_key,
        &id,
        admin,
        config.pg_restore.as_deref(),
    )
    .await;
    let record = imported.map_err(|e| {
        let reason = format!("import {}: {e}", report.object_key);
        if e.is_retryable() {
            BackupError::Transient {
                subject: request.export.clone(),
                step: BackupStep::Verify,
                reason,
            }
        } else {
            BackupError::Rejected(reason)
        }
    })?;
    let key = ExportVerification::key_of(&report.object_key);
    put_if_absent(store, request, &key, record.to_json()).await?;
    Ok(record)
}

async fn put_if_absent(
    store: &dyn ObjectStore,
    request: &ExportRequested,
    key: &str,
    body: Vec<u8>,
) -> Result<(), BackupError> {
    let body = Box::new(std::io::Cursor::new(body));
    match store
        .put_stream_if_absent(key, body, "application/json")
        .await
    {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(transient(request, &e)),
    }
}

//! One backup end to end: the dump streamed create-only to its object, then its manifest.

use std::path::Path;

use chrono::{DateTime, Utc};
use events::Tier;

use crate::dump::{dump_database, DumpError, Target};
use crate::manifest::Manifest;
use crate::store::{BackupLocation, CreateError, CreateOnlyDir};

/// Why a backup failed, by step (`backup.failed`'s `step`).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The dump itself failed; nothing is under the dump's key.
    #[error("dump: {0}")]
    Dump(#[from] DumpError),
    /// Writing the dump object failed (or it already exists).
    #[error("upload: {0}")]
    Upload(#[source] CreateError),
    /// Writing the manifest failed (or it already exists).
    #[error("manifest: {0}")]
    Manifest(#[source] CreateError),
}

impl BackupError {
    /// The step that failed, as `backup.failed` names it.
    pub fn step(&self) -> &'static str {
        match self {
            Self::Dump(_) => "dump",
            Self::Upload(_) => "upload",
            Self::Manifest(_) => "manifest",
        }
    }
}

/// Dumps `target` to `location`'s dump key, then writes its manifest beside it, both
/// create-only. The manifest comes last, so a manifest always describes a complete dump.
pub async fn back_up(
    store: &CreateOnlyDir,
    location: &BackupLocation,
    target: &Target,
    pg_dump: Option<&Path>,
    tier: Tier,
    window_id: &str,
) -> Result<Manifest, BackupError> {
    let started_at: DateTime<Utc> = Utc::now();
    let mut object = store
        .begin(&location.dump_key())
        .await
        .map_err(BackupError::Upload)?;
    // On a dump error `object` is dropped uncommitted: its temp file goes, the key stays free.
    let report = dump_database(target, pg_dump, &mut object).await?;
    object.commit().await.map_err(BackupError::Upload)?;
    let manifest = Manifest::new(location, tier, window_id, started_at, Utc::now(), &report);
    store
        .create_from(&location.manifest_key(), &mut manifest.to_json().as_slice())
        .await
        .map_err(BackupError::Manifest)?;
    Ok(manifest)
}

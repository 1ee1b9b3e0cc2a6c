//! `backup.verify.requested`: restore one stored backup into a scratch database, compare
//! every table's row count with its manifest, and keep the verdict beside the manifest.

use events::backup::{BackupFailed, BackupVerified, VerifyRequested};
use shared::backends::object_store::{ObjectStore, StoreError};
use shared::{crash_point, Ctx, Outcome};

use crate::config::Config;
use crate::dump::Target;
use crate::error::{BackupError, BackupStep};
use crate::manifest::Manifest;
use crate::publish;
use crate::store::BackupLocation;
use crate::verify::{drop_leftover_scratch, verify_backup, VerificationRecord};

/// Verifies the backup `request` names, once.
pub async fn verify(
    ctx: &Ctx,
    config: &Config,
    request: &VerifyRequested,
) -> Result<Outcome, BackupError> {
    let location = BackupLocation::parse(
        request.environment.as_str(),
        request.database.as_str(),
        request.date,
        &request.backup_id,
    )
    .map_err(|e| BackupError::Rejected(e.to_string()))?;
    let store = ctx.object_store()?.as_ref();
    if let Some(bytes) = store
        .get(&location.verification_key())
        .await
        .map_err(transient)?
    {
        // Verified before, but a crash may have come before the verdict was announced: it
        // is announced again (the same event id, so once for whoever reads it).
        let record: VerificationRecord = serde_json::from_slice(&bytes).map_err(|e| {
            BackupError::Rejected(format!("{}: unreadable: {e}", location.verification_key()))
        })?;
        announce(ctx, config, &location, &record).await?;
        return Ok(Outcome::Ignored(format!(
            "{} is verified already",
            location.dump_key()
        )));
    }
    let manifest = read_manifest(store, &location).await?;
    let admin = admin_target(config)?;
    // A verification that crashed left its scratch database; clear those first.
    if let Err(e) = drop_leftover_scratch(&admin).await {
        tracing::warn!(error = %e, "leftover scratch databases not dropped");
    }
    let record = match store
        .get_stream(&location.dump_key())
        .await
        .map_err(transient)?
    {
        Some(archive) => verify_backup(archive, &manifest, &admin, config.pg_restore.as_deref())
            .await
            .map_err(|e| {
                if e.is_retryable() {
                    transient(e)
                } else {
                    BackupError::Rejected(format!("verify {}: {e}", location.dump_key()))
                }
            })?,
        None => VerificationRecord::missing_dump(&manifest),
    };
    let body = Box::new(std::io::Cursor::new(record.to_json()));
    match store
        .put_stream_if_absent(&location.verification_key(), body, "application/json")
        .await
    {
        Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
        Err(e) => return Err(transient(e)),
    }
    crash_point::at(location.environment.as_str(), BackupStep::Verify, "after")?;
    announce(ctx, config, &location, &record).await?;
    Ok(Outcome::Done)
}

/// `backup.verified`, or `backup.failed` with step `verify`: a backup that does not restore
/// is a finding, not a bad event (recorded, announced, acked). The id is the backup's, not
/// the request's, so every announcement of one verdict is the same event.
async fn announce(
    ctx: &Ctx,
    config: &Config,
    location: &BackupLocation,
    record: &VerificationRecord,
) -> Result<(), BackupError> {
    let dump_key = location.dump_key();
    if record.passed {
        let verified = BackupVerified {
            environment: location.environment.clone(),
            database: location.database.clone(),
            backup_id: location.backup_id.as_str().to_owned(),
            location: config.location_of(&dump_key),
            tables_checked: record.tables_checked as u64,
        };
        return publish::event(ctx, format!("{dump_key}/verified"), &verified).await;
    }
    let failed = BackupFailed {
        environment: location.environment.clone(),
        database: Some(location.database.clone()),
        backup_id: Some(location.backup_id.as_str().to_owned()),
        step: BackupStep::Verify.as_str().to_owned(),
        reason: record
            .reason
            .clone()
            .unwrap_or_else(|| "verification failed".into()),
    };
    publish::event(ctx, format!("{dump_key}/verify-failed"), &failed).await
}

/// The manifest of `location`; a backup without one is not this runner's to verify.
pub async fn read_manifest(
    store: &dyn ObjectStore,
    location: &BackupLocation,
) -> Result<Manifest, BackupError> {
    let key = location.manifest_key();
    let bytes = store.get(&key).await.map_err(transient)?.ok_or_else(|| {
        BackupError::Rejected(format!(
            "no manifest at {key}: not a backup this runner wrote"
        ))
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| BackupError::Rejected(format!("{key}: unreadable manifest: {e}")))
}

/// The role verification and restores connect as: `VERIFY_DATABASE_URL`, else the managed
/// server's admin.
pub fn admin_target(config: &Config) -> Result<Target, BackupError> {
    let (url, variable) = match (&config.verify_database_url, &config.managed_database_url) {
        (Some(url), _) => (url, "VERIFY_DATABASE_URL"),
        (None, Some(url)) => (url, "MANAGED_DATABASE_URL"),
        (None, None) => {
            return Err(shared::MissingBackend {
                backend: "a server to restore into",
                variable: "VERIFY_DATABASE_URL or MANAGED_DATABASE_URL",
            }
            .into())
        }
    };
    Target::from_url(url).map_err(|why| BackupError::Rejected(format!("{variable}: {why}")))
}

fn transient(e: impl std::fmt::Display) -> BackupError {
    BackupError::Transient {
        subject: "backup".into(),
        step: BackupStep::Verify,
        reason: e.to_string(),
    }
}

//! `backup.requested`: one database's backup (or, without an environment, a fan-out of all).

use chrono::{DateTime, Utc};
use events::backup::{
    BackupCompleted, BackupFailed, BackupRequested, BackupSkipped, VerifyRequested,
};
use shared::{crash_point, Ctx, Outcome};
use tokio::sync::Semaphore;

use crate::backup::{BackupJob, JobError, Stored};
use crate::config::Config;
use crate::error::{BackupError, BackupStep};
use crate::manifest::Manifest;
use crate::store::BackupLocation;
use crate::{publish, targets, window};

/// Backs up what `request` names.
pub async fn requested(
    ctx: &Ctx,
    config: &Config,
    slots: &Semaphore,
    request: &BackupRequested,
    event_id: &str,
    event_time: Option<DateTime<Utc>>,
) -> Result<Outcome, BackupError> {
    let window = request
        .window
        .unwrap_or_else(|| window::window_of(event_time));
    let Some(environment) = &request.environment else {
        return window::fan_out(ctx, config, window, "backup of everything requested").await;
    };
    let Some(source) =
        targets::resolve(ctx, config, environment, request.database.as_ref()).await?
    else {
        return Ok(Outcome::Ignored(format!(
            "nothing to back up: environment {} does not exist or is not ready",
            environment.as_str()
        )));
    };
    let start_by = window + config.start_window;
    if Utc::now() > start_by {
        let skipped = BackupSkipped {
            environment: source.environment.clone(),
            database: source.database.clone(),
            window,
            reason: format!("the start window closed at {start_by}; the next window backs it up"),
        };
        publish::event(ctx, format!("{event_id}/skipped"), &skipped).await?;
        return Ok(Outcome::Ignored(skipped.reason));
    }
    // Bounded dumps per instance; a busy instance lets Pub/Sub push this one elsewhere.
    let Ok(_slot) = slots.try_acquire() else {
        return Err(BackupError::Busy(format!(
            "{} (this instance already runs {} dumps)",
            source.database.as_str(),
            config.max_parallel
        )));
    };
    let store = ctx.object_store()?;
    let location =
        BackupLocation::for_window(source.environment.clone(), source.database.clone(), window);
    let deadline = (window + config.complete_window).min(Utc::now() + config.request_budget);
    let job = BackupJob {
        store: store.as_ref(),
        location: location.clone(),
        target: &source.target,
        pg_dump: config.pg_dump.as_deref(),
        tier: source.tier,
        window_id: location.backup_id.as_str().to_owned(),
        deadline,
    };
    match job.run().await {
        Ok(Stored::New(manifest)) => {
            crash_point::at(environment.as_str(), BackupStep::Manifest, "after")?;
            announce(ctx, config, &manifest).await?;
            ask_verification(ctx, config, &location).await?;
            Ok(Outcome::Done)
        }
        Ok(Stored::Existing(manifest)) => {
            // Done before, but a crash may have come before it was announced or its
            // verification asked for: the announcement again (the same event id, so once
            // for whoever reads it), and the verification if it has no record.
            announce(ctx, config, &manifest).await?;
            if store
                .get(&location.verification_key())
                .await
                .ok()
                .flatten()
                .is_none()
            {
                ask_verification(ctx, config, &location).await?;
            }
            Ok(Outcome::Done)
        }
        Err(JobError::Crashed(crash)) => Err(crash.into()),
        Err(e) if e.lost_race() => Err(BackupError::Busy(location.dump_key())),
        Err(e) if e.is_retryable() => Err(BackupError::Transient {
            subject: location.dump_key(),
            step: e.step().parse().unwrap_or(BackupStep::Dump),
            reason: e.to_string(),
        }),
        Err(e) => Err(publish::failed(
            ctx,
            event_id,
            BackupFailed {
                environment: source.environment,
                database: Some(source.database),
                backup_id: Some(location.backup_id.as_str().to_owned()),
                step: e.step().to_owned(),
                reason: e.to_string(),
            },
        )
        .await),
    }
}

/// `backup.completed` for `manifest`. Its id is the backup's, not the request's: however
/// many requests and redeliveries reach a stored backup, readers see one event.
async fn announce(ctx: &Ctx, config: &Config, manifest: &Manifest) -> Result<(), BackupError> {
    let id = format!("{}/completed", manifest.object);
    publish::event(ctx, id, &completed(config, manifest)).await
}

fn completed(config: &Config, manifest: &Manifest) -> BackupCompleted {
    BackupCompleted {
        environment: manifest.environment.clone(),
        database: manifest.database.clone(),
        backup_id: manifest.backup_id.as_str().to_owned(),
        location: config.location_of(&manifest.object),
        size_bytes: manifest.size,
        sha256: manifest.sha256.clone(),
        started_at: manifest.started_at,
        finished_at: manifest.finished_at,
    }
}

async fn ask_verification(
    ctx: &Ctx,
    config: &Config,
    location: &BackupLocation,
) -> Result<(), BackupError> {
    let request = VerifyRequested {
        environment: location.environment.clone(),
        database: location.database.clone(),
        date: location.date,
        backup_id: location.backup_id.as_str().to_owned(),
    };
    let id = format!("verify/{}", location.dump_key());
    publish::to_self(ctx, config, id, &request).await
}

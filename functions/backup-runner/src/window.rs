//! The nightly window: one `backup.requested` per database, each its own delivery, so a
//! window of 200 databases spreads over as many instances as Pub/Sub pushes to, and each
//! database is retried and dead-lettered on its own.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use events::backup::BackupRequested;
use events::TypedEvent as _;
use shared::{Ctx, Outcome};

use crate::config::Config;
use crate::error::BackupError;
use crate::{publish, targets};

/// Publishes one request per database of the window starting at `window`. Ids derive from
/// the window and the database: a redelivered or re-published window publishes the same
/// requests, and the ledger runs each (database, window) once.
pub async fn fan_out(
    ctx: &Ctx,
    config: &Config,
    window: DateTime<Utc>,
    reason: &str,
) -> Result<Outcome, BackupError> {
    let databases = targets::all(ctx, config).await?;
    for (environment, database) in &databases {
        let request = BackupRequested {
            environment: Some(environment.clone()),
            database: database.clone(),
            window: Some(window),
            reason: Some(reason.to_owned()),
        };
        let id = request
            .idempotency_key()
            .unwrap_or_else(|| format!("{}/{}", window.timestamp(), environment.as_str()));
        publish::to_self(ctx, config, id, &request).await?;
    }
    tracing::info!(%window, databases = databases.len(), "backup window fanned out");
    Ok(Outcome::Done)
}

/// The nightly job: the fan-out, then the sweep (overdue databases, retention).
pub async fn nightly(
    ctx: &Ctx,
    config: &Config,
    window: DateTime<Utc>,
    event_id: &str,
) -> Result<Outcome, BackupError> {
    fan_out(ctx, config, window, "backup window").await?;
    crate::exporting::fan_out(ctx, config, window).await?;
    let expected: Vec<_> = targets::all(ctx, config)
        .await?
        .into_iter()
        .map(|(env, db)| {
            let db = db.unwrap_or_else(|| env.database());
            (env, db)
        })
        .collect();
    crate::sweep::sweep(ctx, config, &expected, Utc::now(), event_id).await?;
    Ok(Outcome::Done)
}

/// The window of an event that states none: its minute, so one on-demand request is one
/// backup.
pub fn window_of(time: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let time = time.unwrap_or_else(Utc::now);
    time.duration_trunc(TimeDelta::minutes(1)).unwrap_or(time)
}

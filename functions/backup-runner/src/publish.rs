//! Follow-up events: to the events topic (what happened) or back to this service's own
//! topic (work that becomes its own delivery: one backup, one verification).

use events::backup::BackupFailed;
use events::{OutgoingEvent, TypedEvent};
use shared::Ctx;

use crate::config::Config;
use crate::error::BackupError;

/// Publishes `payload` to the service's own topic as event `id`. A stable id per piece of
/// work keeps a redelivered fan-out from looking like new work.
pub async fn to_self<T: TypedEvent>(
    ctx: &Ctx,
    config: &Config,
    id: String,
    payload: &T,
) -> Result<(), BackupError> {
    ctx.publisher()
        .publish(
            &config.topic,
            OutgoingEvent::new(ctx.source(), id, payload).into_message(),
        )
        .await?;
    Ok(())
}

/// Emits `payload` to the events topic.
pub async fn event<T: TypedEvent>(ctx: &Ctx, id: String, payload: &T) -> Result<(), BackupError> {
    ctx.emit(OutgoingEvent::new(ctx.source(), id, payload))
        .await?;
    Ok(())
}

/// Emits `backup.failed` and returns the error that dead-letters the delivery with the same
/// reason.
pub async fn failed(ctx: &Ctx, id: &str, failure: BackupFailed) -> BackupError {
    let step = failure
        .step
        .parse()
        .unwrap_or(crate::error::BackupStep::Dump);
    let subject = match &failure.database {
        Some(db) => format!("{}/{}", failure.environment.as_str(), db.as_str()),
        None => failure.environment.as_str().to_owned(),
    };
    let reason = failure.reason.clone();
    if let Err(e) = event(ctx, format!("{id}/failed"), &failure).await {
        return e;
    }
    BackupError::Failed {
        subject,
        step,
        reason,
    }
}

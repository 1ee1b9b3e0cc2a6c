//! `from_backup`: the new environment starts from another environment's backup. The
//! provisioner does not restore anything itself; once the environment's database exists it
//! asks backup-runner (`backup.restore.requested` with `into_environment`), which fills the
//! still-empty database as the environment's owner role.

use events::backup::RestoreRequested;
use events::environment::{BackupSource, EnvironmentRequested};
use events::{OutgoingEvent, Tier};
use shared::Ctx;

use crate::error::{ProvisionError, StepError};
use crate::inventory;
use crate::state::{self, Record};

/// The service that performs restores (its first topic takes the requests).
const BACKUP_RUNNER: &str = "backup-runner";

/// The backup `request` starts from, refused when its source is `prod` (production data
/// never flows into previews; every requestable tier is below `prod`). Asked before
/// anything is created. A source the provisioner never recorded is left to backup-runner,
/// which refuses a prod backup into an environment from the backup's own manifest.
pub async fn source(
    ctx: &Ctx,
    request: &EnvironmentRequested,
) -> Result<Option<BackupSource>, ProvisionError> {
    let Some(source) = request.from_backup().map_err(ProvisionError::Rejected)? else {
        return Ok(None);
    };
    let recorded = inventory::get(ctx.control_db()?, &source.environment).await?;
    if recorded.is_some_and(|env| env.tier == Tier::Prod) && request.tier != Tier::Prod {
        return Err(ProvisionError::Rejected(format!(
            "from_backup: {} is a prod environment; production data is never restored into a {} environment",
            source.environment, request.tier
        )));
    }
    Ok(Some(source))
}

/// Publishes the restore request for `record`'s database, under an id derived from the
/// request that claimed the environment: a resumed or redelivered provisioning publishes
/// the same request again, and backup-runner runs one restore per `into` whatever the
/// duplicates. Records `restored_from` among the environment's outputs.
pub async fn request(
    ctx: &Ctx,
    request: &EnvironmentRequested,
    record: &Record,
) -> Result<&'static str, StepError> {
    let Some(source) = request.from_backup().map_err(StepError::permanent)? else {
        return Ok("skipped");
    };
    let topic = events::platform::service(BACKUP_RUNNER)
        .and_then(|service| service.topics.first())
        .ok_or_else(|| StepError::permanent(format!("no topic for {BACKUP_RUNNER}")))?;
    let name = &record.name;
    let payload = RestoreRequested {
        environment: source.environment.clone(),
        database: None,
        at: source.at,
        into: name.database(),
        into_environment: Some(name.clone()),
    };
    let id = format!("{}/restore", record.request_id);
    let message = OutgoingEvent::new(ctx.source(), id, &payload).into_message();
    ctx.publisher().publish(topic, message).await?;
    let from = request.from_backup.as_deref().unwrap_or_default();
    state::set_output(ctx.control_db()?, name, "restored_from", from).await?;
    tracing::info!(environment = %name, source = %source.environment, "restore requested");
    Ok("created")
}

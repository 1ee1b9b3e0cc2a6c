//! `environment.teardown.requested` and the hourly TTL sweep: remove everything an
//! environment has, mark it deleted, publish `environment.deleted`.

use events::environment::{DeleteReason, EnvironmentDeleted};
use events::names::EnvName;
use events::{OutgoingEvent, Tier};
use shared::{Ctx, Outcome};

use crate::error::ProvisionError;
use crate::fault;
use crate::resources::remove_all;
use crate::state;
use crate::Config;

/// Tears down one environment. Unknown or already deleted is done, not an error.
pub async fn teardown(
    name: &EnvName,
    reason: DeleteReason,
    event_id: &str,
    ctx: &Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let pool = ctx.control_db()?;
    let Some(lock) = state::lock_environment(pool, name).await? else {
        return Err(ProvisionError::Busy(name.to_string()));
    };
    let outcome = teardown_locked(name, reason, event_id, ctx, config).await;
    lock.release().await?;
    outcome
}

async fn teardown_locked(
    name: &EnvName,
    reason: DeleteReason,
    event_id: &str,
    ctx: &Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let pool = ctx.control_db()?;
    let record = match state::load(pool, name, false).await? {
        Some(record) if record.status != "deleted" => record,
        _ => {
            return Ok(Outcome::Ignored(format!(
                "environment {name} is unknown or already deleted"
            )))
        }
    };
    if record.tier == Tier::Prod {
        return Err(ProvisionError::Rejected(format!(
            "environment {name} is tier prod; groundskeeper never tears down prod"
        )));
    }
    if record.labels.get("managed-by").map(String::as_str) != Some("groundskeeper") {
        return Err(ProvisionError::Rejected(format!(
            "environment {name} lacks the label managed-by=groundskeeper; groundskeeper leaves it alone"
        )));
    }
    state::set_status(pool, name, "deleting", None).await?;
    fault::check(name, "teardown:before")?;
    remove_all(ctx, config, &record).await?;
    fault::check(name, "teardown:after")?;
    let deleted = EnvironmentDeleted {
        name: name.clone(),
        reason,
    };
    ctx.emit(OutgoingEvent::new(
        ctx.source(),
        format!("{event_id}/deleted/{name}"),
        &deleted,
    ))
    .await?;
    state::set_status(pool, name, "deleted", None).await?;
    tracing::info!(environment = %name, ?reason, "environment deleted");
    Ok(Outcome::Done)
}

/// Tears down every environment past its TTL. One that is busy or failing does not stop the
/// others; the sweep then asks for a retry so it is not forgotten.
pub async fn sweep(event_id: &str, ctx: &Ctx, config: &Config) -> Result<Outcome, ProvisionError> {
    let mut retry = None;
    for name in state::expired(ctx.control_db()?).await? {
        match teardown(&name, DeleteReason::TtlExpired, event_id, ctx, config).await {
            Ok(_) => {}
            Err(ProvisionError::Rejected(reason)) => {
                tracing::warn!(environment = %name, %reason, "not swept")
            }
            Err(e) => {
                tracing::warn!(environment = %name, error = %e, "sweep will retry");
                retry = Some(e);
            }
        }
    }
    retry.map_or(Ok(Outcome::Done), Err)
}

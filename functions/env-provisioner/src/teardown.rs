//! `environment.teardown.requested` and the hourly TTL sweep: remove everything an
//! environment has, mark it deleted, publish `environment.deleted`. A teardown leaves a
//! tombstone (its publish time) so requests published before it never provision again.

use chrono::{DateTime, Utc};
use events::environment::{DeleteReason, EnvironmentDeleted};
use events::labels;
use events::names::EnvName;
use events::{OutgoingEvent, Tier};
use shared::{Ctx, Outcome};

use crate::error::ProvisionError;
use crate::fault;
use crate::resources::remove_all;
use crate::state;
use crate::tombstones;
use crate::Config;

/// One teardown: which environment, why, and the event asking (its id and publish time).
pub struct Teardown<'a> {
    /// The environment.
    pub name: &'a EnvName,
    /// Requested or TTL expired.
    pub reason: DeleteReason,
    /// The event's id.
    pub event_id: &'a str,
    /// The event's publish time: the tombstone.
    pub at: Option<DateTime<Utc>>,
}

/// Tears down one environment, or resumes its teardown. Unknown or already deleted is done,
/// not an error, and leaves a tombstone.
pub async fn teardown(
    t: &Teardown<'_>,
    ctx: &Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let pool = ctx.control_db()?;
    let Some(lock) = state::lock_environment(pool, t.name).await? else {
        return Err(ProvisionError::Busy(t.name.to_string()));
    };
    let outcome = teardown_locked(t, ctx, config).await;
    lock.release().await?;
    outcome
}

async fn teardown_locked(
    t: &Teardown<'_>,
    ctx: &Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let (pool, name) = (ctx.control_db()?, t.name);
    let record = match state::load(pool, name, false).await? {
        Some(record) if record.status != "deleted" => record,
        _ => {
            // Push is unordered: this may overtake the request it removes.
            let mut conn = pool.acquire().await?;
            tombstones::record(&mut conn, name, t.at, None, t.event_id).await?;
            return Ok(Outcome::Ignored(format!(
                "environment {name} is unknown or already deleted; requests published before this teardown will be refused"
            )));
        }
    };
    if record.tier == Tier::Prod {
        return Err(ProvisionError::Rejected(format!(
            "environment {name} is tier prod; groundskeeper never tears down prod"
        )));
    }
    if !labels::is_managed(&record.labels) {
        return Err(ProvisionError::Rejected(format!(
            "environment {name} lacks the label managed-by=groundskeeper; groundskeeper leaves it alone"
        )));
    }
    if record.status != "deleting" {
        state::set_status(pool, name, "deleting", None).await?;
    }
    fault::check(name, "teardown:before")?;
    remove_all(ctx, config, &record, None).await?;
    fault::check(name, "teardown:after")?;
    let deleted = EnvironmentDeleted {
        name: name.clone(),
        reason: t.reason,
    };
    ctx.emit(OutgoingEvent::new(
        ctx.source(),
        format!("{}/deleted/{name}", t.event_id),
        &deleted,
    ))
    .await?;
    state::mark_deleted(pool, &record, t.at, t.event_id).await?;
    tracing::info!(environment = %name, reason = ?t.reason, "environment deleted");
    Ok(Outcome::Done)
}

/// Tears down every environment past its TTL and resumes every teardown left halfway. One
/// that is busy or failing does not stop the others; a transient failure makes the sweep ask
/// for a retry, whose redelivery finds the environment `deleting` and resumes it. One that
/// fails for good is reported and left `deleting` with its failure for a teardown request.
pub async fn sweep(
    event_id: &str,
    at: Option<DateTime<Utc>>,
    ctx: &Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let mut retry = None;
    for name in state::expired(ctx.control_db()?).await? {
        let t = Teardown {
            name: &name,
            reason: DeleteReason::TtlExpired,
            event_id,
            at,
        };
        match teardown(&t, ctx, config).await {
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

//! `environment.requested`: claim the name, run the steps (each recorded before its side
//! effect, each skipped when done), publish `environment.ready`. A request refused outright
//! is recorded as such (see [`crate::requests`]).

use events::environment::{EnvironmentFailed, EnvironmentReady, EnvironmentRequested};
use events::names::LoginSlot;
use events::{Event, OutgoingEvent};
use shared::{Ctx, Outcome};

use crate::claim::{claim, Claim};
use crate::create::create;
use crate::error::{ProvisionError, StepError};
use crate::resources;
use crate::state::{self, Record};
use crate::steps::{ProvisionStep, STEPS};
use crate::storage::Storage;
use crate::{fault, objects, requests, restore, Config};

/// Handles one request, single-flight per environment name. A refusal is recorded under the
/// request's id before the request is dead-lettered.
pub async fn provision(
    event: Event<EnvironmentRequested>,
    ctx: Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let outcome = provision_checked(&event, &ctx, config).await;
    if let Err(ProvisionError::Rejected(reason)) = &outcome {
        requests::refuse(&ctx, &event.id, &event.data.name, reason).await?;
    }
    outcome
}

async fn provision_checked(
    event: &Event<EnvironmentRequested>,
    ctx: &Ctx,
    config: &Config,
) -> Result<Outcome, ProvisionError> {
    let request = &event.data;
    let ttl = config
        .ttl_for(request.tier, request.ttl)
        .map_err(ProvisionError::Rejected)?;
    if let Storage::Bucket(mode) = &config.storage {
        mode.check(&request.name)
            .map_err(ProvisionError::Rejected)?;
    }
    restore::source(ctx, request).await?;
    let pool = ctx.control_db()?;
    let Some(lock) = state::lock_environment(pool, &request.name).await? else {
        return Err(ProvisionError::Busy(request.name.to_string()));
    };
    let outcome = match claim(pool, config, request, ttl, &event.id, event.time).await {
        Ok(Claim::AlreadyReady) => Ok(Outcome::Done),
        Ok(Claim::Provision(record)) => run(event, ctx, config, *record).await,
        Err(e) => Err(e),
    };
    lock.release().await?;
    outcome
}

async fn run(
    event: &Event<EnvironmentRequested>,
    ctx: &Ctx,
    config: &Config,
    record: Record,
) -> Result<Outcome, ProvisionError> {
    let (pool, name) = (ctx.control_db()?, &record.name);
    for &step in STEPS {
        match record.resources.get(step.as_str()).map(String::as_str) {
            Some("created" | "skipped") => continue,
            Some(_) => {} // started before a crash: finish it
            None => {
                match resources::conflict(ctx, config, name, record.tier, step).await {
                    Ok(None) => {}
                    Ok(Some(reason)) => {
                        return fail(event, ctx, config, step, StepError::permanent(reason)).await
                    }
                    Err(e) => return fail(event, ctx, config, step, e).await,
                }
                state::mark_step(pool, name, step.as_str(), "creating").await?;
            }
        }
        shared::crash_point::at(name.as_str(), step, "before")?;
        let done = match create(event, ctx, config, &record, step).await {
            Ok(done) => done,
            Err(e) => return fail(event, ctx, config, step, e).await,
        };
        shared::crash_point::at(name.as_str(), step, "after")?;
        state::mark_step(pool, name, step.as_str(), done).await?;
    }
    let record = state::load(pool, name, false)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    fault::check(name, "ready:before")?;
    ctx.emit(OutgoingEvent::new(
        ctx.source(),
        format!("{}/ready", event.id),
        &ready(ctx, config, &record)?,
    ))
    .await?;
    // A crash here re-publishes `ready` on redelivery: at least once, never lost.
    fault::check(name, "ready:after")?;
    state::set_status(pool, name, "ready", None).await?;
    tracing::info!(environment = %name, "environment ready");
    Ok(Outcome::Done)
}

fn ready(ctx: &Ctx, config: &Config, record: &Record) -> Result<EnvironmentReady, ProvisionError> {
    let endpoint = ctx.databases()?.endpoint().clone();
    let name = &record.name;
    Ok(EnvironmentReady {
        name: name.clone(),
        tier: record.tier,
        owner: record.owner.clone(),
        host: endpoint.host,
        port: endpoint.port,
        database: name.database(),
        user: name.login_role(LoginSlot::A),
        secret: format!(
            "projects/{}/secrets/{}",
            config.project,
            name.secret_id(record.tier)
        ),
        object_prefix: objects::url(ctx, config, name),
        service_url: record.outputs.get("service_url").cloned(),
        service_skipped: record.outputs.get("service_skipped").cloned(),
        expires_at: record.expires_at,
        labels: record.labels.clone(),
    })
}

/// A step failed: retry if it may pass later; otherwise remove what this environment's
/// provisioning created, record and publish the failure, and dead-letter the request.
async fn fail(
    event: &Event<EnvironmentRequested>,
    ctx: &Ctx,
    config: &Config,
    step: ProvisionStep,
    error: StepError,
) -> Result<Outcome, ProvisionError> {
    if error.retryable {
        return Err(ProvisionError::Transient {
            subject: event.data.name.to_string(),
            step,
            reason: error.reason,
        });
    }
    let (pool, name) = (ctx.control_db()?, &event.data.name);
    tracing::warn!(environment = %name, step = step.as_str(), reason = %error.reason, "provisioning failed; removing what it created");
    let cleanup = match state::load(pool, name, false).await? {
        Some(record) => resources::remove_all(ctx, config, &record, Some(step)).await,
        None => Ok(()),
    };
    let reason = match cleanup {
        Ok(()) => {
            state::set_status(pool, name, "failed", Some((step.as_str(), &error.reason))).await?;
            error.reason
        }
        // The cleanup failed for good: the row stays `deleting` with what is left, for a
        // teardown request to finish; `failed` would forget those resources.
        Err(ProvisionError::Rejected(cleanup)) => format!("{}; {cleanup}", error.reason),
        Err(e) => return Err(e),
    };
    let failed = EnvironmentFailed {
        name: name.clone(),
        step: step.as_str().into(),
        reason: reason.clone(),
    };
    ctx.emit(OutgoingEvent::new(
        ctx.source(),
        format!("{}/failed", event.id),
        &failed,
    ))
    .await?;
    Err(ProvisionError::Failed {
        subject: name.to_string(),
        step,
        reason,
    })
}

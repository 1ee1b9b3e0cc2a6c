//! The environment's resources, one step each: whether something already exists under the
//! step's names, and how to remove it. Creation is in [`crate::create`].

use events::names::{EnvName, LoginSlot};
use events::Tier;
use shared::Ctx;

use crate::error::{ProvisionError, StepError};
use crate::objects;
use crate::state::{self, Record};
use crate::steps::{ProvisionStep, STEPS};
use crate::Config;

fn missing(e: shared::MissingBackend) -> StepError {
    StepError {
        retryable: true,
        reason: e.to_string(),
    }
}

/// What already exists where `step` would create it, as the reason provisioning stops
/// (`None`: nothing). Only asked before an environment's first attempt at the step.
pub async fn conflict(
    ctx: &Ctx,
    config: &Config,
    name: &EnvName,
    tier: Tier,
    step: ProvisionStep,
) -> Result<Option<String>, StepError> {
    let found = match step {
        ProvisionStep::Bucket => return objects::bucket_conflict(ctx, config, name).await,
        ProvisionStep::OwnerRole => {
            ctx.databases()
                .map_err(missing)?
                .role_exists(&name.owner_role())
                .await?
        }
        ProvisionStep::LoginRoles => {
            let db = ctx.databases().map_err(missing)?;
            db.role_exists(&name.login_role(LoginSlot::A)).await?
                || db.role_exists(&name.login_role(LoginSlot::B)).await?
        }
        ProvisionStep::Database => {
            ctx.databases()
                .map_err(missing)?
                .database_exists(&name.database())
                .await?
        }
        ProvisionStep::Credentials => {
            let secrets = ctx.secrets().map_err(missing)?;
            secrets
                .get_secret(name.secret_id(tier).as_str())
                .await?
                .is_some()
        }
        ProvisionStep::Objects => {
            let place = objects::place_for_create(ctx, config, name).await?;
            !place.store.list(&place.prefix).await?.is_empty()
        }
        // A request creates nothing under the environment's names; backup-runner itself
        // refuses to fill a database that is not empty.
        ProvisionStep::Restore => false,
        // Cloud Run refuses to deploy over a service it does not manage (see PreviewServices).
        ProvisionStep::Service => false,
    };
    Ok(found.then(|| {
        format!("{step}: something already exists under this environment's names and groundskeeper did not create it; it is left alone")
    }))
}

/// Removes what `step` created. Idempotent: removing what is gone succeeds.
pub async fn remove(
    ctx: &Ctx,
    config: &Config,
    record: &Record,
    step: ProvisionStep,
) -> Result<(), StepError> {
    let (name, tier) = (&record.name, record.tier);
    match step {
        ProvisionStep::Service => {
            config.previews.backend(ctx).await?.delete(name).await?;
        }
        ProvisionStep::Objects => {
            if let Some(place) = objects::place_of(ctx, config, record).await? {
                place.empty().await?;
            }
        }
        ProvisionStep::Bucket => objects::remove_bucket(ctx, config, record).await?,
        // The restored tables go with the database; a restore still running then fails.
        ProvisionStep::Restore => {}
        ProvisionStep::Credentials => {
            ctx.secrets()
                .map_err(missing)?
                .delete_secret(name.secret_id(tier).as_str())
                .await?;
        }
        ProvisionStep::Database => {
            let db = ctx.databases().map_err(missing)?;
            db.terminate_sessions(&name.database()).await?;
            db.drop_database(&name.database()).await?;
        }
        ProvisionStep::LoginRoles => {
            let db = ctx.databases().map_err(missing)?;
            for slot in [LoginSlot::A, LoginSlot::B] {
                db.drop_role(&name.login_role(slot)).await?;
            }
        }
        ProvisionStep::OwnerRole => {
            ctx.databases()
                .map_err(missing)?
                .drop_role(&name.owner_role())
                .await?;
        }
    }
    Ok(())
}

/// Removes every step the environment started (`creating` or `created`), last first,
/// forgetting each once removed. A `skipped` step created nothing and removes nothing: what
/// stands under its name is someone else's (a platform service named like a preview).
///
/// Stops at the first error. A retryable one is [`ProvisionError::Transient`]: the state is
/// kept and the redelivery resumes. A permanent one is recorded as a failed teardown (status
/// `deleting`, failure `teardown:STEP`, the steps left still listed) and is
/// [`ProvisionError::Rejected`] with the reason; a later teardown request (or sweep) resumes.
/// `failed_step` is the step whose creation just failed for good: if that is the preview and
/// its removal is refused too, the service under its name is not this environment's (deploy
/// refused it for that) and is left alone.
pub async fn remove_all(
    ctx: &Ctx,
    config: &Config,
    record: &Record,
    failed_step: Option<ProvisionStep>,
) -> Result<(), ProvisionError> {
    let (pool, name) = (ctx.control_db()?, &record.name);
    let started = |step: &&ProvisionStep| matches!(record.resources.get(step.as_str()).map(String::as_str), Some(s) if s != "skipped");
    for &step in STEPS.iter().rev().filter(started) {
        match remove(ctx, config, record, step).await {
            Ok(()) => {}
            Err(e) if e.retryable => {
                return Err(ProvisionError::Transient {
                    subject: name.to_string(),
                    step,
                    reason: format!("removing: {}", e.reason),
                })
            }
            Err(e) if step == ProvisionStep::Service && failed_step == Some(step) => {
                tracing::warn!(environment = %name, reason = %e.reason, "preview left alone");
            }
            Err(e) => {
                let failure = (format!("teardown:{step}"), &e.reason);
                state::set_status(pool, name, "deleting", Some((&failure.0, failure.1))).await?;
                return Err(ProvisionError::Rejected(format!(
                    "environment {name}: removing {step} failed for good: {}; the environment stays \
                     `deleting` with what is left; fix the cause and request its teardown again",
                    e.reason
                )));
            }
        }
        state::forget_step(pool, name, step.as_str()).await?;
    }
    Ok(())
}

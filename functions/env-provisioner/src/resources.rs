//! The environment's resources, one step each: whether something already exists under the
//! step's names, and how to remove it. Creation is in [`crate::create`].

use events::names::{EnvName, LoginSlot};
use events::Tier;
use shared::Ctx;

use crate::error::{ProvisionError, StepError};
use crate::objects;
use crate::state::Record;
use crate::Config;

/// The provisioning steps, in order; teardown walks them backwards. `bucket` is `skipped`
/// in prefix mode (`ENV_STORAGE`).
pub const STEPS: [&str; 7] = [
    "owner_role",
    "login_roles",
    "database",
    "credentials",
    "bucket",
    "objects",
    "service",
];

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
    step: &str,
) -> Result<Option<String>, StepError> {
    if step == "bucket" {
        return objects::bucket_conflict(ctx, config, name).await;
    }
    let found = match step {
        "owner_role" => {
            ctx.databases()
                .map_err(missing)?
                .role_exists(&name.owner_role())
                .await?
        }
        "login_roles" => {
            let db = ctx.databases().map_err(missing)?;
            db.role_exists(&name.login_role(LoginSlot::A)).await?
                || db.role_exists(&name.login_role(LoginSlot::B)).await?
        }
        "database" => {
            ctx.databases()
                .map_err(missing)?
                .database_exists(&name.database())
                .await?
        }
        "credentials" => {
            let secrets = ctx.secrets().map_err(missing)?;
            secrets
                .get_secret(name.secret_id(tier).as_str())
                .await?
                .is_some()
        }
        "objects" => {
            let place = objects::place_for_create(ctx, config, name).await?;
            !place.store.list(&place.prefix).await?.is_empty()
        }
        // Cloud Run refuses to deploy over a service it does not manage (see PreviewServices).
        _ => false,
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
    step: &str,
) -> Result<(), StepError> {
    let (name, tier) = (&record.name, record.tier);
    match step {
        "service" => {
            ctx.previews().map_err(missing)?.delete(name).await?;
        }
        "objects" => {
            if let Some(place) = objects::place_of(ctx, config, record).await? {
                place.empty().await?;
            }
        }
        "bucket" => objects::remove_bucket(ctx, config, record).await?,
        "credentials" => {
            ctx.secrets()
                .map_err(missing)?
                .delete_secret(name.secret_id(tier).as_str())
                .await?;
        }
        "database" => {
            let db = ctx.databases().map_err(missing)?;
            db.terminate_sessions(&name.database()).await?;
            db.drop_database(&name.database()).await?;
        }
        "login_roles" => {
            let db = ctx.databases().map_err(missing)?;
            for slot in [LoginSlot::A, LoginSlot::B] {
                db.drop_role(&name.login_role(slot)).await?;
            }
        }
        "owner_role" => {
            ctx.databases()
                .map_err(missing)?
                .drop_role(&name.owner_role())
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Removes every step recorded in the environment's resources, last first. Stops at the
/// first error.
pub async fn remove_all(ctx: &Ctx, config: &Config, record: &Record) -> Result<(), ProvisionError> {
    for step in STEPS
        .iter()
        .rev()
        .filter(|step| record.resources.contains_key(**step))
    {
        remove(ctx, config, record, step)
            .await
            .map_err(|e| ProvisionError::Transient {
                step,
                reason: format!("removing: {}", e.reason),
            })?;
    }
    Ok(())
}

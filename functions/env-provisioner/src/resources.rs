//! The environment's resources, one step each: whether something already exists under the
//! step's names, and how to remove it. Creation is in [`crate::provision`].

use events::names::{EnvName, LoginSlot};
use events::Tier;
use shared::Ctx;

use crate::error::{ProvisionError, StepError};

/// The provisioning steps, in order; teardown walks them backwards.
pub const STEPS: [&str; 6] = [
    "owner_role",
    "login_roles",
    "database",
    "credentials",
    "objects",
    "service",
];

/// The marker object that records the environment's labels under its prefix.
pub fn marker_key(name: &EnvName) -> String {
    format!("{}.groundskeeper.json", name.object_prefix())
}

fn missing(e: shared::MissingBackend) -> StepError {
    StepError {
        retryable: true,
        reason: e.to_string(),
    }
}

/// Whether something already exists where `step` would create it.
pub async fn exists(ctx: &Ctx, name: &EnvName, tier: Tier, step: &str) -> Result<bool, StepError> {
    Ok(match step {
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
        "objects" => !ctx
            .object_store()
            .map_err(missing)?
            .list(&name.object_prefix())
            .await?
            .is_empty(),
        // Cloud Run refuses to deploy over a service it does not manage (see PreviewServices).
        _ => false,
    })
}

/// Removes what `step` created. Idempotent: removing what is gone succeeds.
pub async fn remove(ctx: &Ctx, name: &EnvName, tier: Tier, step: &str) -> Result<(), StepError> {
    match step {
        "service" => {
            ctx.previews()
                .map_err(missing)?
                .delete(&name.service_name())
                .await?;
        }
        "objects" => {
            let store = ctx.object_store().map_err(missing)?;
            for object in store.list(&name.object_prefix()).await? {
                store.delete(&object.key).await?;
            }
        }
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

/// Removes every step recorded in `resources`, last first. Stops at the first error.
pub async fn remove_all(
    ctx: &Ctx,
    name: &EnvName,
    tier: Tier,
    resources: &std::collections::BTreeMap<String, String>,
) -> Result<(), ProvisionError> {
    for step in STEPS.iter().rev().filter(|s| resources.contains_key(**s)) {
        remove(ctx, name, tier, step)
            .await
            .map_err(|e| ProvisionError::Transient {
                step,
                reason: format!("removing: {}", e.reason),
            })?;
    }
    Ok(())
}

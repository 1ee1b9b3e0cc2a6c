//! **grace**, run by the sweep: versions older than `previous` are disabled once the grace
//! period has passed since they stopped being current, and disabled ones are destroyed once
//! the retention period has passed after that. Versions an alias points at are never touched.

use std::collections::BTreeSet;

use chrono::{TimeDelta, Utc};
use shared::backends::secrets::{SecretError, VersionState};
use shared::Ctx;

use crate::error::RotateError;
use crate::lock::lock_secret;
use crate::rotation_steps::RotationStep;
use crate::state;
use crate::Config;

/// Cleans up one secret's old versions; skipped while a rotation holds the secret.
pub async fn clean(ctx: &Ctx, config: &Config, secret: &str) -> Result<(), RotateError> {
    let pool = ctx.control_db()?;
    let Some(lock) = lock_secret(pool, secret).await? else {
        return Ok(()); // being rotated: the next sweep cleans up
    };
    let outcome = clean_locked(ctx, config, secret).await;
    lock.release().await?;
    outcome.map_err(|e| RotateError::Transient {
        subject: secret.to_owned(),
        step: RotationStep::Grace,
        reason: e.to_string(),
    })
}

async fn clean_locked(ctx: &Ctx, config: &Config, secret: &str) -> Result<(), SecretError> {
    let (pool, secrets) = match (ctx.control_db(), ctx.secrets()) {
        (Ok(pool), Ok(secrets)) => (pool, secrets),
        _ => return Ok(()),
    };
    let Some(info) = secrets.get_secret(secret).await? else {
        return Ok(());
    };
    let Some(previous) = info.alias("previous") else {
        return Ok(());
    };
    // Versions older than `previous` stopped being current when `previous` was promoted;
    // without a record of that, when `current` was added is a later, so safer, bound.
    let recorded = state::load(pool, secret)
        .await
        .map_err(|e| SecretError::Backend {
            secret: secret.to_owned(),
            reason: e.to_string(),
        })?
        .and_then(|row| row.previous_since);
    let current_added = info
        .alias("current")
        .and_then(|c| info.versions.iter().find(|v| v.version == c))
        .map(|v| v.created_at);
    let Some(since) = recorded.or(current_added) else {
        return Ok(());
    };
    let elapsed = Utc::now() - since;
    let grace = TimeDelta::from_std(config.grace_period).unwrap_or(TimeDelta::MAX);
    let retention = TimeDelta::from_std(config.retention).unwrap_or(TimeDelta::MAX);
    let aliased: BTreeSet<u64> = info.aliases.values().copied().collect();
    let old: Vec<_> = info
        .versions
        .iter()
        .filter(|v| v.version < previous && !aliased.contains(&v.version))
        .cloned()
        .collect();
    for v in old {
        match v.state {
            VersionState::Enabled if elapsed >= grace => {
                secrets.disable_version(secret, v.version).await?;
                tracing::info!(secret, version = v.version, "disabled an old version");
            }
            VersionState::Disabled
                if elapsed >= grace.checked_add(&retention).unwrap_or(TimeDelta::MAX) =>
            {
                secrets.destroy_version(secret, v.version).await?;
                tracing::info!(secret, version = v.version, "destroyed an old version");
            }
            _ => {}
        }
    }
    Ok(())
}

//! `rotation.due`, the daily sweep: for every secret under a rotation policy, record the
//! policy, report it overdue when it is more than one period late, rotate it (or ask people
//! to) when due, resume a rotation left in flight, and clean up old versions.

use chrono::{DateTime, TimeDelta, Utc};
use events::rotation::{RotationManualRequired, RotationOverdue};
use events::{names::SecretId, OutgoingEvent};
use shared::{Classify, Ctx, Disposition, Outcome};

use crate::error::RotateError;
use crate::registry::{self, Mode, Policy};
use crate::{grace, rotate::rotate, state, Config};

/// Runs the sweep. Each secret is handled on its own: a failure of one does not stop the
/// others; the sweep is retried (and is idempotent) if any failed transiently.
pub async fn sweep(ctx: &Ctx, config: &Config, sweep_id: &str) -> Result<Outcome, RotateError> {
    let secrets = ctx.secrets()?;
    let names = secrets
        .list_secrets(&[("managed-by", "groundskeeper")])
        .await
        .map_err(|e| RotateError::Transient {
            secret: "*".into(),
            step: "check",
            reason: e.to_string(),
        })?;
    let mut retry = None;
    for name in names {
        match one(ctx, config, sweep_id, &name).await {
            Ok(()) | Err(RotateError::Busy(_) | RotateError::TooSoon { .. }) => {}
            // Failures were published; rejections say why the secret cannot be rotated.
            Err(e) if e.disposition() == Disposition::Reject => {
                tracing::warn!(secret = %name, reason = %e, "not rotated");
            }
            Err(e) => {
                tracing::warn!(secret = %name, reason = %e, "sweep will retry");
                retry.get_or_insert(e);
            }
        }
    }
    retry.map_or(Ok(Outcome::Done), Err)
}

async fn one(ctx: &Ctx, config: &Config, sweep_id: &str, name: &str) -> Result<(), RotateError> {
    let secrets = ctx.secrets()?;
    let transient = |e: shared::backends::secrets::SecretError| RotateError::Transient {
        secret: name.to_owned(),
        step: "check",
        reason: e.to_string(),
    };
    let Some(info) = secrets.get_secret(name).await.map_err(transient)? else {
        return Ok(());
    };
    let Ok(policy) = registry::policy(config, &info) else {
        return Ok(()); // not under a rotation policy
    };
    let Ok(secret) = name.parse::<SecretId>() else {
        return Ok(());
    };
    let (now, period) = (Utc::now(), TimeDelta::days(i64::from(policy.days)));
    let last_rotated = registry::last_rotated(&info);
    let due_at = last_rotated.map_or(now, |last| last + period);
    record(ctx, name, policy, last_rotated, due_at).await?;
    if now > due_at + period {
        let overdue = RotationOverdue {
            secret: secret.clone(),
            last_rotated,
            due_at,
            policy_days: policy.days,
        };
        notify(
            ctx,
            name,
            OutgoingEvent::new(ctx.source(), format!("{sweep_id}/{name}/overdue"), &overdue),
        )
        .await?;
    }
    if policy.mode == Mode::Manual {
        if now >= due_at {
            let manual = RotationManualRequired {
                secret,
                last_rotated,
                due_at,
                policy_days: policy.days,
            };
            let id = format!("{sweep_id}/{name}/manual_required");
            notify(ctx, name, OutgoingEvent::new(ctx.source(), id, &manual)).await?;
        }
        return Ok(());
    }
    let in_flight = match ctx.control_db() {
        Ok(pool) => state::load(pool, name)
            .await?
            .is_some_and(|r| r.in_flight()),
        Err(_) => false,
    };
    if now >= due_at || in_flight {
        rotate(ctx, config, &secret, &format!("{sweep_id}/{name}")).await?;
        if let Some(info) = secrets.get_secret(name).await.map_err(transient)? {
            let last = registry::last_rotated(&info);
            record(ctx, name, policy, last, last.map_or(now, |l| l + period)).await?;
        }
    }
    if ctx.is_dry_run() {
        return Ok(());
    }
    grace::clean(ctx, config, name).await
}

/// Upserts the secret's row in `control.rotation_policies` (not in a dry run).
async fn record(
    ctx: &Ctx,
    name: &str,
    policy: Policy,
    last_rotated: Option<DateTime<Utc>>,
    due_at: DateTime<Utc>,
) -> Result<(), RotateError> {
    let Ok(pool) = ctx.control_db() else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO control.rotation_policies (secret, mode, policy_days, last_rotated, due_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (secret) DO UPDATE SET mode = $2, \
         policy_days = $3, last_rotated = $4, due_at = $5, updated_at = now()",
    )
    .bind(name)
    .bind(policy.mode.as_str())
    .bind(i32::try_from(policy.days).unwrap_or(i32::MAX))
    .bind(last_rotated)
    .bind(due_at)
    .execute(pool)
    .await?;
    Ok(())
}

async fn notify(ctx: &Ctx, name: &str, event: OutgoingEvent) -> Result<(), RotateError> {
    ctx.emit(event).await?;
    if let Ok(pool) = ctx.control_db() {
        sqlx::query(
            "UPDATE control.rotation_policies SET last_notified_at = now() WHERE secret = $1",
        )
        .bind(name)
        .execute(pool)
        .await?;
    }
    Ok(())
}

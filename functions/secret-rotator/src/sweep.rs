//! `rotation.due`, the daily sweep: for every secret under a rotation policy, record the
//! policy, report it overdue when it is more than one period late, rotate it (or ask people
//! to) when due, resume a rotation left in flight, and clean up old versions.

use std::{any::Any, panic::AssertUnwindSafe};

use chrono::{DateTime, TimeDelta, Utc};
use events::rotation::{RotationFailed, RotationManualRequired, RotationOverdue};
use events::{labels, names::SecretId, OutgoingEvent};
use futures::FutureExt;
use shared::{Classify, Ctx, Disposition, Outcome};

use crate::error::{RotateError, TooSoon};
use crate::registry::{self, Mode, Policy};
use crate::rotation_steps::RotationStep;
use crate::{grace, rotate::rotate, state, Config};

/// Runs the sweep. Each secret is handled on its own: a failure of one does not stop the
/// others; the sweep is retried (and is idempotent) if any failed transiently.
pub async fn sweep(ctx: &Ctx, config: &Config, sweep_id: &str) -> Result<Outcome, RotateError> {
    let secrets = ctx.secrets()?;
    let names = secrets
        .list_secrets(&[(labels::MANAGED_BY, labels::MANAGED_BY_VALUE)])
        .await
        .map_err(|e| RotateError::Transient {
            subject: "*".into(),
            step: RotationStep::Check,
            reason: e.to_string(),
        })?;
    let mut retry = None;
    for name in names {
        // Each secret on its own, a panic included: one bad secret must not stop the sweep
        // for every secret after it, every day.
        let work = AssertUnwindSafe(one(ctx, config, sweep_id, &name)).catch_unwind();
        match work.await {
            Ok(Ok(()) | Err(RotateError::Busy(_) | RotateError::Other(TooSoon { .. }))) => {}
            // Failures were published; rejections say why the secret cannot be rotated.
            Ok(Err(e)) if e.disposition() == Disposition::Reject => {
                tracing::warn!(secret = %name, reason = %e, "not rotated");
            }
            Ok(Err(e)) => {
                tracing::warn!(secret = %name, reason = %e, "sweep will retry");
                retry.get_or_insert(e);
            }
            Err(panic) => report_panic(ctx, sweep_id, &name, panic_message(panic.as_ref())).await,
        }
    }
    retry.map_or(Ok(Outcome::Done), Err)
}

/// A secret's work panicked: logged and published as `secret.rotation.failed` (step
/// `sweep`), and the sweep goes on. Not retried: it would panic again.
async fn report_panic(ctx: &Ctx, sweep_id: &str, name: &str, message: String) {
    let reason = format!("the sweep's work on this secret panicked: {message}");
    tracing::error!(secret = name, reason, "sweep skipped a secret");
    let Ok(secret) = name.parse::<SecretId>() else {
        return;
    };
    let failed = RotationFailed {
        secret,
        step: "sweep".into(),
        reason,
    };
    let id = format!("{sweep_id}/{name}/panicked");
    if let Err(e) = ctx
        .emit(OutgoingEvent::new(ctx.source(), id, &failed))
        .await
    {
        tracing::warn!(secret = name, error = %e, "could not publish the failure");
    }
}

async fn one(ctx: &Ctx, config: &Config, sweep_id: &str, name: &str) -> Result<(), RotateError> {
    let secrets = ctx.secrets()?;
    let transient = |e: shared::backends::secrets::SecretError| RotateError::Transient {
        subject: name.to_owned(),
        step: RotationStep::Check,
        reason: e.to_string(),
    };
    let Some(info) = secrets.get_secret(name).await.map_err(transient)? else {
        return Ok(());
    };
    crate::fault::panic_if_armed(name, "sweep:panic");
    let policy = match registry::policy(config, &info) {
        Ok(policy) => policy,
        Err(why) => {
            tracing::debug!(secret = name, why, "not under a rotation policy");
            return Ok(());
        }
    };
    if let Some(why) = &policy.misconfigured {
        tracing::warn!(
            secret = name,
            why,
            "misconfigured rotation label; the policy applies"
        );
    }
    let Ok(secret) = name.parse::<SecretId>() else {
        return Ok(());
    };
    let (now, period) = (Utc::now(), policy.period());
    let last_rotated = registry::last_rotated(&info);
    let due_at = last_rotated.map_or(now, |last| later(last, period));
    record(ctx, name, &policy, last_rotated, due_at).await?;
    if now > later(due_at, period) {
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
            let due_at = last.map_or(now, |l| later(l, period));
            record(ctx, name, &policy, last, due_at).await?;
        }
    }
    if ctx.is_dry_run() {
        return Ok(());
    }
    grace::clean(ctx, config, name).await
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// `at + period`, saturating at the end of time instead of panicking.
pub(crate) fn later(at: DateTime<Utc>, period: TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(period)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Upserts the secret's row in `control.rotation_policies` (not in a dry run).
async fn record(
    ctx: &Ctx,
    name: &str,
    policy: &Policy,
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

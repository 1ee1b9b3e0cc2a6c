//! One secret's rotation, single-flight and resumable: each step is recorded before its side
//! effect (see `state`), crash points sit at every boundary (see `fault`), and a permanent
//! failure leaves `current` untouched and is published.

use chrono::Utc;
use events::names::{DbIdent, EnvName, SecretId};
use events::rotation::SecretRotated;
use events::OutgoingEvent;
use shared::{Ctx, Outcome};

use crate::error::{RotateError, TooSoon};
use crate::failure::settle;
use crate::lock::lock_secret;
use crate::registry::{self, Mode};
use crate::rotation_steps::RotationStep;
use crate::state::{self, Rotation};
use crate::steps::Rotor;
use crate::Config;

/// Rotates `secret` (or resumes its rotation in flight) on behalf of `rotation_id`.
pub async fn rotate(
    ctx: &Ctx,
    config: &Config,
    secret: &SecretId,
    rotation_id: &str,
) -> Result<Outcome, RotateError> {
    if let Some(plan) = ctx.plan() {
        plan.record(serde_json::json!({ "action": "rotate secret", "secret": secret }));
        return Ok(Outcome::Done);
    }
    let pool = ctx.control_db()?;
    let Some(lock) = lock_secret(pool, secret.as_str()).await? else {
        return Err(RotateError::Busy(secret.to_string()));
    };
    let outcome = run(ctx, config, secret.as_str(), rotation_id).await;
    lock.release().await?;
    outcome
}

async fn run(
    ctx: &Ctx,
    config: &Config,
    secret: &str,
    rotation_id: &str,
) -> Result<Outcome, RotateError> {
    let (pool, secrets) = (ctx.control_db()?, ctx.secrets()?);
    let info = match secrets.get_secret(secret).await {
        Ok(Some(info)) => info,
        Ok(None) => {
            return Err(RotateError::Rejected(format!(
                "secret {secret} does not exist"
            )))
        }
        Err(e) if e.is_retryable() => {
            return Err(transient(secret, RotationStep::Check, e.to_string()))
        }
        Err(e) => return Err(RotateError::Rejected(e.to_string())),
    };
    let policy = registry::policy(config, &info).map_err(RotateError::Rejected)?;
    if policy.mode == Mode::Manual {
        return Err(RotateError::Rejected(format!(
            "secret {secret} is rotated by hand (label rotation=manual)"
        )));
    }
    let mode = match state::load(pool, secret).await? {
        Some(row) if row.in_flight() => mode_of(&row), // resume, whoever started it
        Some(row) if row.rotation_id == rotation_id => return Ok(Outcome::Done),
        previous => {
            let since = previous.and_then(|row| row.current_since);
            if let Some(since) = since.filter(|s| Utc::now() - *s < interval(config)) {
                tracing::debug!(secret, %since, "the last rotation is too recent");
                return Err(RotateError::Other(TooSoon {
                    secret: secret.to_owned(),
                    wait_ms: config.min_rotation_interval.as_millis(),
                    not_before: crate::sweep::later(since, interval(config)),
                }));
            }
            state::begin(pool, secret, rotation_id, policy.mode.as_str()).await?;
            policy.mode
        }
    };
    let rotor = Rotor {
        ctx,
        config,
        secret,
        mode,
        secrets,
    };
    drive(&rotor).await
}

fn interval(config: &Config) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(config.min_rotation_interval).unwrap_or(chrono::TimeDelta::MAX)
}

fn mode_of(row: &Rotation) -> Mode {
    match row.mode.as_str() {
        "single_user" => Mode::SingleUser,
        _ => Mode::Alternating,
    }
}

pub(crate) fn transient(secret: &str, step: RotationStep, reason: String) -> RotateError {
    RotateError::Transient {
        subject: secret.to_owned(),
        step,
        reason,
    }
}

/// Runs the recorded step and every one after it.
async fn drive(r: &Rotor<'_>) -> Result<Outcome, RotateError> {
    let (pool, s) = (r.ctx.control_db()?, r.secret);
    loop {
        let row = state::load(pool, s)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        let incomplete = || {
            transient(
                s,
                RotationStep::Check,
                "the rotation record is incomplete".into(),
            )
        };
        let base = || row.base_version.ok_or_else(incomplete);
        let target = row.target_role.as_deref().map(str::parse::<DbIdent>);
        let target = || match &target {
            Some(Ok(role)) => Ok(role.clone()),
            _ => Err(incomplete()),
        };
        // `done` and `failed` are no steps: nothing is in flight.
        let Ok(step) = row.step.parse::<RotationStep>() else {
            return Ok(Outcome::Done);
        };
        let crash = |moment| shared::crash_point::at(s, step, moment);
        match step {
            RotationStep::Check => {
                crash("before")?;
                let (base, target) = settle(r, &row, step, r.check().await).await?;
                crash("after")?;
                state::checked(pool, s, base, target.as_str()).await?;
            }
            RotationStep::Create => {
                crash("before")?;
                let pending = match row.pending_version {
                    Some(pending) => pending,
                    None => {
                        let intended = row.pending_digest.as_deref();
                        let added = r.add_pending(base()?, &target()?, intended).await;
                        let pending = settle(r, &row, step, added).await?;
                        crash("added")?;
                        state::set_pending(pool, s, pending).await?;
                        pending
                    }
                };
                settle(r, &row, step, r.alias_pending(pending).await).await?;
                crash("after")?;
                state::advance(pool, s, RotationStep::Set).await?;
            }
            RotationStep::Set => {
                crash("before")?;
                let pending = row.pending_version.ok_or_else(incomplete)?;
                settle(r, &row, step, r.set(base()?, pending, &target()?).await).await?;
                crash("after")?;
                state::advance(pool, s, RotationStep::Test).await?;
            }
            RotationStep::Test => {
                crash("before")?;
                let pending = row.pending_version.ok_or_else(incomplete)?;
                settle(r, &row, step, r.test(pending).await).await?;
                crash("after")?;
                state::advance(pool, s, RotationStep::Finish).await?;
            }
            RotationStep::Finish => {
                crash("before")?;
                let pending = row.pending_version.ok_or_else(incomplete)?;
                settle(r, &row, step, r.promote(base()?, pending).await).await?;
                crash("moved")?;
                let info = settle(r, &row, step, r.info().await).await?;
                let rotated = SecretRotated {
                    secret: s.parse().map_err(|_| incomplete())?,
                    environment: info
                        .labels
                        .get(events::labels::ENVIRONMENT)
                        .and_then(|e| e.parse::<EnvName>().ok()),
                    version: pending.to_string(),
                    previous_version: Some(base()?.to_string()),
                    role: target()?,
                };
                let id = format!("{}/rotated", row.rotation_id);
                r.ctx
                    .emit(OutgoingEvent::new(r.ctx.source(), id, &rotated))
                    .await?;
                // A crash here publishes `secret.rotated` again on redelivery: at least once.
                crash("after")?;
                state::finish(pool, s).await?;
                tracing::info!(secret = s, version = pending, role = %rotated.role, "secret rotated");
                return Ok(Outcome::Done);
            }
            // Never journaled: the sweep cleans up outside any rotation.
            RotationStep::Grace => return Ok(Outcome::Done),
        }
    }
}

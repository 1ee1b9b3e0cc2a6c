//! On-demand rotations: `rotation.requested` (by secret or by environment) and Secret
//! Manager's `SECRET_ROTATE` notification.

use chrono::Utc;
use events::names::SecretId;
use events::rotation::{RotationManualRequired, RotationRequested};
use events::secret_manager::{SecretEventType, SecretManagerNotification};
use events::{labels, OutgoingEvent};
use shared::{Ctx, Outcome};

use crate::error::RotateError;
use crate::registry::{self, Mode};
use crate::rotation_steps::RotationStep;
use crate::{rotate::rotate, sweep::later, Config};

/// `rotation.requested`: the secret, or every database credentials secret of the environment.
pub async fn requested(
    ctx: &Ctx,
    config: &Config,
    request: &RotationRequested,
    id: &str,
) -> Result<Outcome, RotateError> {
    if let Some(secret) = &request.secret {
        return rotate(ctx, config, secret, id).await;
    }
    let Some(environment) = &request.environment else {
        return Err(RotateError::Rejected(
            "give `secret` or `environment`".into(),
        ));
    };
    let names = ctx
        .secrets()?
        .list_secrets(&[
            (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
            (labels::ENVIRONMENT, environment.as_str()),
        ])
        .await
        .map_err(|e| RotateError::Transient {
            subject: format!("{environment}/*"),
            step: RotationStep::Check,
            reason: e.to_string(),
        })?;
    let secrets: Vec<SecretId> = names
        .iter()
        .filter(|n| n.ends_with("-db-credentials"))
        .filter_map(|n| n.parse().ok())
        .collect();
    if secrets.is_empty() {
        return Err(RotateError::Rejected(format!(
            "environment {environment} has no managed database credentials"
        )));
    }
    for secret in &secrets {
        rotate(ctx, config, secret, &format!("{id}/{secret}")).await?;
    }
    Ok(Outcome::Done)
}

/// A Secret Manager notification: `SECRET_ROTATE` for `projects/NUMBER/secrets/NAME` rotates
/// NAME (or, for a secret rotated by hand, says it is due); every other type is acked.
pub async fn notified(
    ctx: &Ctx,
    config: &Config,
    notification: &SecretManagerNotification,
    id: &str,
) -> Result<Outcome, RotateError> {
    if notification.event_type != SecretEventType::Rotate {
        return Ok(Outcome::Ignored(format!(
            "Secret Manager {:?} notification for {}: nothing to do",
            notification.event_type, notification.secret_id
        )));
    }
    let secret: SecretId = notification
        .secret_name()
        .and_then(|name| name.parse().ok())
        .ok_or_else(|| {
            RotateError::Rejected(format!(
                "secretId {:?} is not projects/NUMBER/secrets/NAME",
                notification.secret_id
            ))
        })?;
    check_project(config, &notification.secret_id)?;
    let info = ctx
        .secrets()?
        .get_secret(secret.as_str())
        .await
        .map_err(|e| RotateError::Transient {
            subject: secret.to_string(),
            step: RotationStep::Check,
            reason: e.to_string(),
        })?;
    let Some(info) = info else {
        return Ok(Outcome::Ignored(format!("secret {secret} does not exist")));
    };
    match registry::policy(config, &info) {
        Err(why) => Ok(Outcome::Ignored(why)),
        Ok(policy) if policy.mode == Mode::Manual => {
            let last_rotated = registry::last_rotated(&info);
            let manual = RotationManualRequired {
                secret,
                last_rotated,
                due_at: last_rotated.map_or_else(Utc::now, |l| later(l, policy.period())),
                policy_days: policy.days,
            };
            let id = format!("{id}/manual_required");
            ctx.emit(OutgoingEvent::new(ctx.source(), id, &manual))
                .await?;
            Ok(Outcome::Done)
        }
        Ok(_) => rotate(ctx, config, &secret, id).await,
    }
}

/// Secret ids are unique per project only: a notification for another project's secret of
/// the same name (a shared or misrouted topic) must not rotate ours.
fn check_project(config: &Config, secret_id: &str) -> Result<(), RotateError> {
    let project = secret_id.split('/').nth(1).unwrap_or_default();
    if config.projects.iter().any(|ours| ours == project) {
        return Ok(());
    }
    Err(RotateError::Rejected(if config.projects.is_empty() {
        format!(
            "secretId {secret_id:?}: this service does not know its project; set PROJECT_NUMBER \
             to accept Secret Manager notifications"
        )
    } else {
        format!(
            "secretId {secret_id:?} is in project {project}, not this service's ({}); \
             not rotated",
            config.projects.join(" / ")
        )
    }))
}

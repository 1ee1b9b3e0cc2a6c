//! On-demand rotations: `rotation.requested` (by secret or by environment) and Secret
//! Manager's `SECRET_ROTATE` notification.

use chrono::{TimeDelta, Utc};
use events::names::SecretId;
use events::rotation::{RotationManualRequired, RotationRequested};
use events::secret_manager::{SecretEventType, SecretManagerNotification};
use events::OutgoingEvent;
use shared::{Ctx, Outcome};

use crate::error::RotateError;
use crate::registry::{self, Mode};
use crate::{rotate::rotate, Config};

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
            ("managed-by", "groundskeeper"),
            ("environment", environment.as_str()),
        ])
        .await
        .map_err(|e| RotateError::Transient {
            secret: format!("{environment}/*"),
            step: "check",
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
    let info = ctx
        .secrets()?
        .get_secret(secret.as_str())
        .await
        .map_err(|e| RotateError::Transient {
            secret: secret.to_string(),
            step: "check",
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
                due_at: last_rotated
                    .map_or_else(Utc::now, |l| l + TimeDelta::days(i64::from(policy.days))),
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

//! How a step's result ends a rotation: retryable failures keep the record for a
//! redelivery; permanent ones abandon the new version, and are recorded and published.

use events::rotation::RotationFailed;
use events::OutgoingEvent;

use crate::error::{RotateError, StepError};
use crate::rotate::transient;
use crate::rotation_steps::RotationStep;
use crate::state::{self, Rotation};
use crate::steps::Rotor;

/// A step's result: retryable failures keep the record for a redelivery; permanent ones
/// abandon the new version, record and publish the failure, and reject the delivery.
pub async fn settle<T>(
    r: &Rotor<'_>,
    row: &Rotation,
    step: RotationStep,
    result: Result<T, StepError>,
) -> Result<T, RotateError> {
    let error = match result {
        Ok(value) => return Ok(value),
        Err(e) if e.retryable => return Err(transient(r.secret, step, e.reason)),
        Err(e) => e,
    };
    if let Err(e) = r.abandon(row.pending_version).await {
        return Err(transient(
            r.secret,
            step,
            format!("cleaning up after `{}`: {}", error.reason, e.reason),
        ));
    }
    let pool = r.ctx.control_db()?;
    state::fail(pool, r.secret, step.as_str(), &error.reason).await?;
    tracing::warn!(secret = r.secret, step = step.as_str(), reason = %error.reason, "rotation failed; `current` is untouched");
    let failed = RotationFailed {
        secret: r
            .secret
            .parse()
            .map_err(|_| RotateError::Rejected(error.reason.clone()))?,
        step: step.as_str().into(),
        reason: error.reason.clone(),
    };
    let id = format!("{}/failed", row.rotation_id);
    r.ctx
        .emit(OutgoingEvent::new(r.ctx.source(), id, &failed))
        .await?;
    Err(RotateError::Failed {
        subject: r.secret.to_owned(),
        step,
        reason: error.reason,
    })
}

//! The rotator's one error type: the task kit's (`shared::task`) over its steps, plus its
//! own case, a rotation asked for too soon.

use shared::{Classify, Disposition};

use crate::rotation_steps::RotationStep;

/// What went wrong handling a rotation event.
pub type RotateError = shared::task::TaskError<RotationStep, TooSoon>;

/// The last rotation is too recent: its demoted credential must stay valid a while.
/// Rejected at once with the reason (waiting it out by redelivery would spend every
/// delivery attempt and dead-letter the request with no reason); the daily sweep rotates
/// the secret when it is due.
#[derive(Debug, thiserror::Error)]
#[error(
    "secret {secret} was rotated less than {wait_ms} ms ago (MIN_ROTATION_INTERVAL_MS: the \
     credential it demoted must keep working that long); ask again after {not_before}"
)]
pub struct TooSoon {
    /// The secret.
    pub secret: String,
    /// The minimum interval.
    pub wait_ms: u128,
    /// When a rotation may be asked for again.
    pub not_before: chrono::DateTime<chrono::Utc>,
}

impl Classify for TooSoon {
    fn disposition(&self) -> Disposition {
        Disposition::Reject
    }
}

pub use shared::step::StepError;

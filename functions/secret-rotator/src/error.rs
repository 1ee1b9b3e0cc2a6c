//! The rotator's one error type, and how each kind maps to ack / retry / dead-letter.

use shared::{Classify, Disposition, MissingBackend};

/// What went wrong handling a rotation event.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// The event can never succeed as sent (unknown or unmanaged secret, manual secret).
    #[error("{0}")]
    Rejected(String),
    /// Another delivery is rotating this secret right now.
    #[error("secret {0} is being rotated by another delivery")]
    Busy(String),
    /// The last rotation is too recent: its demoted credential must stay valid a while.
    /// Rejected at once with the reason (waiting it out by redelivery would spend every
    /// delivery attempt and dead-letter the request with no reason); the daily sweep
    /// rotates the secret when it is due.
    #[error(
        "secret {secret} was rotated less than {wait_ms} ms ago (MIN_ROTATION_INTERVAL_MS: the \
         credential it demoted must keep working that long); ask again after {not_before}"
    )]
    TooSoon {
        /// The secret.
        secret: String,
        /// The minimum interval.
        wait_ms: u128,
        /// When a rotation may be asked for again.
        not_before: chrono::DateTime<chrono::Utc>,
    },
    /// A step failed for good; `current` is untouched and `secret.rotation.failed` was
    /// published.
    #[error("rotation of {secret} failed at step {step}: {reason}")]
    Failed {
        /// The secret.
        secret: String,
        /// The step.
        step: &'static str,
        /// Why.
        reason: String,
    },
    /// A dependency is unavailable at this step; the state is kept and a redelivery resumes.
    #[error("rotation of {secret}, step {step}: {reason}")]
    Transient {
        /// The secret.
        secret: String,
        /// The step.
        step: &'static str,
        /// Why.
        reason: String,
    },
    /// The control database failed.
    #[error("control database: {0}")]
    Control(#[from] sqlx::Error),
    /// A backend is not configured.
    #[error(transparent)]
    Missing(#[from] MissingBackend),
    /// A follow-up event could not be published.
    #[error(transparent)]
    Publish(#[from] shared::backends::publisher::PublishError),
    /// A test stopped the handler here (the `fault-injection` feature, tests only).
    #[cfg(feature = "fault-injection")]
    #[error("fault injected at {0}")]
    Injected(String),
}

impl Classify for RotateError {
    fn disposition(&self) -> Disposition {
        match self {
            Self::Rejected(_) | Self::Failed { .. } | Self::TooSoon { .. } => Disposition::Reject,
            Self::Busy(_) => Disposition::Retry { quiet: true },
            Self::Transient { .. } | Self::Control(_) | Self::Missing(_) | Self::Publish(_) => {
                Disposition::Retry { quiet: false }
            }
            #[cfg(feature = "fault-injection")]
            Self::Injected(_) => Disposition::Retry { quiet: true },
        }
    }
}

pub use shared::step::StepError;

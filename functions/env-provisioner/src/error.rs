//! The provisioner's one error type, and how each kind maps to ack / retry / dead-letter.

use shared::{Classify, Disposition, MissingBackend};

/// What went wrong handling an environment event.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The request can never succeed as sent (quota, TTL, spec conflict, refused teardown).
    #[error("{0}")]
    Rejected(String),
    /// Another delivery holds this environment's lock; it will be done by the time a
    /// redelivery arrives.
    #[error("environment {0} is being worked on by another delivery")]
    Busy(String),
    /// A step failed for good; what this attempt created was removed and
    /// `environment.failed` was published.
    #[error("provisioning failed at step {step}: {reason}")]
    Failed {
        /// The step.
        step: &'static str,
        /// Why.
        reason: String,
    },
    /// A dependency is unavailable at this step; the state is kept and a redelivery resumes.
    #[error("step {step}: {reason}")]
    Transient {
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

impl Classify for ProvisionError {
    fn disposition(&self) -> Disposition {
        match self {
            Self::Rejected(_) | Self::Failed { .. } => Disposition::Reject,
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

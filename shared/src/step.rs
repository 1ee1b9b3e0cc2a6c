//! A failed step of a multi-step task, before the task decides what that means.
//!
//! Services that work in recorded steps (provisioning, rotation) turn every backend error into
//! a [`StepError`] that remembers whether a retry could help; the service then either keeps
//! its state and asks for a redelivery, or fails the task for good.

use crate::{
    backends::{
        databases::DbError, object_store::StoreError, publisher::PublishError, secrets::SecretError,
    },
    MissingBackend,
};

/// A step's failure.
#[derive(Debug)]
pub struct StepError {
    /// Worth a retry (a dependency is down), as opposed to failing for good.
    pub retryable: bool,
    /// Why; never a secret value.
    pub reason: String,
}

impl StepError {
    /// A failure retrying cannot fix.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            retryable: false,
            reason: reason.into(),
        }
    }

    /// A failure a later attempt may get past.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self {
            retryable: true,
            reason: reason.into(),
        }
    }
}

/// Backend errors that know whether they are worth a retry.
macro_rules! from_classified {
    ($($error:ty),+) => {$(
        impl From<$error> for StepError {
            fn from(error: $error) -> Self {
                Self { retryable: error.is_retryable(), reason: error.to_string() }
            }
        }
    )+};
}
from_classified!(DbError, SecretError, StoreError);

impl From<PublishError> for StepError {
    fn from(error: PublishError) -> Self {
        Self::transient(error.to_string())
    }
}

impl From<sqlx::Error> for StepError {
    fn from(error: sqlx::Error) -> Self {
        Self::transient(format!("control database: {error}"))
    }
}

/// A missing backend is a deployment mistake that a fixed deployment (and the redelivery
/// Pub/Sub keeps making until then) gets past.
impl From<MissingBackend> for StepError {
    fn from(error: MissingBackend) -> Self {
        Self::transient(error.to_string())
    }
}

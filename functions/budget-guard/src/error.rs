//! budget-guard's steps and its error, on the task kit.

use shared::task::TaskError;

use crate::backends::BackendError;

shared::steps! {
    /// The steps an error names.
    pub enum GuardStep: "downscale" of "budget" {
        /// Listing the resources in the budget's scope.
        Scope = "scope",
        /// Scaling down one level.
        Apply = "apply",
        /// Putting back what an earlier period (or a person) resumed.
        Restore = "restore",
    }
}

/// What can go wrong handling one event.
pub type GuardError = TaskError<GuardStep>;

/// A backend error that a redelivery may get past: the delivery is retried, the journal kept.
pub(crate) fn transient(budget: &str, step: GuardStep, e: &BackendError) -> GuardError {
    GuardError::Transient {
        subject: budget.to_owned(),
        step,
        reason: e.to_string(),
    }
}

//! The provisioner's one error type: the task kit's, over its steps (`shared::task`).

use crate::steps::ProvisionStep;

/// What went wrong handling an environment event.
pub type ProvisionError = shared::task::TaskError<ProvisionStep>;

pub use shared::step::StepError;

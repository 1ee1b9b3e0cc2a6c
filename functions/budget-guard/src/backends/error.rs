//! The one error type of the backends; [`BackendError::is_retryable`] tells the caller
//! whether a redelivery may succeed.

/// Why a backend call did not do what was asked. Messages name the resource and never
/// carry credentials (API errors and SQLSTATEs only).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The resource does not exist.
    #[error("{resource} does not exist")]
    NotFound {
        /// The resource name.
        resource: String,
    },
    /// The resource no longer has the settings the caller recorded: someone else changed
    /// it between the read and the apply. Nothing was changed.
    #[error("{resource} changed since it was read (now: {found}); nothing was changed")]
    Changed {
        /// The resource name.
        resource: String,
        /// The settings found, as JSON.
        found: String,
    },
    /// The resource cannot take this change (a read replica cannot be stopped). Nothing
    /// was changed; not a failure.
    #[error("{resource} skipped: {reason}")]
    Skipped {
        /// The resource name.
        resource: String,
        /// Why.
        reason: String,
    },
    /// The backend refuses to touch this resource (not an environment's database, a
    /// malformed name). Never retried.
    #[error("{resource} refused: {reason}")]
    Refused {
        /// The resource name, as given.
        resource: String,
        /// Why.
        reason: String,
    },
    /// An Admin API call failed.
    #[error("{resource}: {call} failed: {message}")]
    Api {
        /// The resource name.
        resource: String,
        /// The API method.
        call: &'static str,
        /// Whether a later attempt may succeed.
        retryable: bool,
        /// The API's error.
        message: String,
    },
    /// An operation ended with an error.
    #[error("{resource}: operation {operation} failed: {code}: {message}")]
    OperationFailed {
        /// The resource name.
        resource: String,
        /// The operation's name.
        operation: String,
        /// The API's error code.
        code: String,
        /// The API's message.
        message: String,
    },
    /// An operation was still running after the last poll.
    #[error("{resource}: operation {operation} still running after {polls} polls")]
    StillRunning {
        /// The resource name.
        resource: String,
        /// The operation's name.
        operation: String,
        /// How many polls were made.
        polls: u32,
    },
    /// A PostgreSQL statement failed.
    #[error("database {resource}: {action} failed (SQLSTATE {sqlstate})")]
    Database {
        /// The database name.
        resource: String,
        /// What was being done.
        action: &'static str,
        /// The SQLSTATE, or `none` (connection lost, pool closed).
        sqlstate: String,
        /// Whether a later attempt may succeed.
        retryable: bool,
    },
}

impl BackendError {
    /// Whether a redelivery may succeed where this call failed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { retryable, .. } | Self::Database { retryable, .. } => *retryable,
            Self::StillRunning { .. } => true,
            Self::NotFound { .. }
            | Self::Changed { .. }
            | Self::Skipped { .. }
            | Self::Refused { .. }
            | Self::OperationFailed { .. } => false,
        }
    }

    /// [`BackendError::Changed`] with `found` as JSON.
    pub(super) fn changed(resource: &str, found: &impl serde::Serialize) -> Self {
        Self::Changed {
            resource: resource.to_owned(),
            found: serde_json::to_string(found).unwrap_or_else(|e| e.to_string()),
        }
    }
}

//! Why a managed export did not complete, sorted into retry (Pub/Sub redelivers) and
//! failure (`backup.failed`).

use google_cloud_gax::error::rpc::{Code, StatusDetails};
use google_cloud_gax::error::Error as ApiError;
use shared::backends::object_store::StoreError;

/// A managed export that did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ManagedError {
    /// Another operation runs on the instance (Cloud SQL's 409 `operationInProgress`):
    /// the instance takes one at a time, so this export must wait its turn.
    #[error("{instance}: another operation is in progress on the instance: {message}")]
    Busy {
        /// The instance.
        instance: String,
        /// What the API said.
        message: String,
    },
    /// An API call failed before any operation result.
    #[error("{instance}: {call} failed: {source}")]
    Api {
        /// The instance.
        instance: String,
        /// The call (`export`, `get operation`, ...).
        call: &'static str,
        /// Whether a later attempt may succeed (unavailable, timeout, quota, ...).
        retryable: bool,
        /// The client's error.
        source: ApiError,
    },
    /// The operation finished with an error: the export did not happen.
    #[error("{instance}: operation {operation} failed: {code}: {message}")]
    OperationFailed {
        /// The instance.
        instance: String,
        /// The operation's name.
        operation: String,
        /// The error code the operation reported.
        code: String,
        /// The error message the operation reported.
        message: String,
    },
    /// The operation was still running after the last poll; a redelivery finds the object
    /// or meets the instance busy.
    #[error("{instance}: operation {operation} still running after {polls} polls")]
    StillRunning {
        /// The instance.
        instance: String,
        /// The operation's name.
        operation: String,
        /// How many times it was polled.
        polls: u32,
    },
    /// The operation succeeded but no object is under its key.
    #[error("{instance}: operation {operation} succeeded but object {key} does not exist")]
    ObjectMissing {
        /// The instance.
        instance: String,
        /// The operation's name.
        operation: String,
        /// The object key that should exist.
        key: String,
    },
    /// Reading the export bucket failed.
    #[error("export bucket: {0}")]
    Store(#[from] StoreError),
}

impl ManagedError {
    /// Whether Pub/Sub should redeliver rather than report a failure.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Busy { .. } | Self::StillRunning { .. } => true,
            Self::Api { retryable, .. } => *retryable,
            Self::Store(e) => e.is_retryable(),
            Self::OperationFailed { .. } | Self::ObjectMissing { .. } => false,
        }
    }

    /// Sorts a client error from `call` on `instance`: busy, passing, or permanent.
    pub(super) fn from_api(instance: &str, call: &'static str, source: ApiError) -> Self {
        let instance = instance.to_owned();
        if is_busy(&source) {
            let message = source
                .status()
                .map_or_else(|| source.to_string(), |s| s.message.clone());
            return Self::Busy { instance, message };
        }
        let retryable = is_transient(&source);
        Self::Api {
            instance,
            call,
            retryable,
            source,
        }
    }
}

/// HTTP 409, `ABORTED`, or the legacy reason `operationInProgress`: the instance is busy.
fn is_busy(e: &ApiError) -> bool {
    let in_progress = |d: &StatusDetails| matches!(d, StatusDetails::ErrorInfo(info) if info.reason == "operationInProgress");
    e.http_status_code() == Some(409)
        || e.status()
            .is_some_and(|s| s.code == Code::Aborted || s.details.iter().any(in_progress))
}

/// Failures that a later attempt may not meet: the network, the service's load, timeouts.
fn is_transient(e: &ApiError) -> bool {
    let code_transient = e.status().is_some_and(|s| {
        matches!(
            s.code,
            Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Internal
        )
    });
    let http_transient = e.http_status_code().is_some_and(|c| c == 429 || c >= 500);
    code_transient
        || http_transient
        || e.is_timeout()
        || e.is_io()
        || e.is_connect()
        || e.is_transport()
}

//! Sorting Google API errors: not found, a stale precondition (etag / settings version:
//! read again and retry), transient, or for good.

use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::error::Error;

use super::BackendError;

/// How many read → write rounds a stale etag or settings version gets before the delivery
/// is retried instead (someone else keeps changing the resource).
pub(super) const ROUNDS: usize = 3;

/// NOT_FOUND, or HTTP 404 without a status body.
pub(super) fn is_not_found(e: &Error) -> bool {
    e.status().is_some_and(|s| s.code == Code::NotFound) || e.http_status_code() == Some(404)
}

/// The write lost a race: the etag or settings version it carried is no longer current
/// (ABORTED / FAILED_PRECONDITION, HTTP 409 / 412).
pub(super) fn is_stale(e: &Error) -> bool {
    e.status()
        .is_some_and(|s| matches!(s.code, Code::Aborted | Code::FailedPrecondition))
        || matches!(e.http_status_code(), Some(409 | 412))
}

/// The error as a [`BackendError`].
pub(super) fn classify(resource: &str, call: &'static str, e: &Error) -> BackendError {
    if is_not_found(e) {
        return BackendError::NotFound {
            resource: resource.to_owned(),
        };
    }
    let code_transient = e.status().is_some_and(|s| {
        matches!(
            s.code,
            Code::Unavailable
                | Code::DeadlineExceeded
                | Code::ResourceExhausted
                | Code::Internal
                | Code::Aborted
        )
    });
    let http_transient = e.http_status_code().is_some_and(|c| c == 429 || c >= 500);
    BackendError::Api {
        resource: resource.to_owned(),
        call,
        retryable: code_transient
            || http_transient
            || is_stale(e)
            || e.is_timeout()
            || e.is_io()
            || e.is_connect()
            || e.is_transport(),
        message: e.to_string(),
    }
}

/// Out of rounds: someone else keeps changing the resource; a redelivery tries again.
pub(super) fn kept_changing(resource: &str, call: &'static str) -> BackendError {
    BackendError::Api {
        resource: resource.to_owned(),
        call,
        retryable: true,
        message: format!("the resource changed under each of {ROUNDS} attempts"),
    }
}

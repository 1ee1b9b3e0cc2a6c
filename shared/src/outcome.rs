//! What a handler decides, and how that becomes an HTTP status Pub/Sub understands.
//!
//! Handlers return `Result<Outcome, E>` where `E: Classify`; this module is the one place that
//! turns the decision into platform behaviour (ack, redeliver, dead-letter).

use std::fmt;

use axum::http::StatusCode;

/// A handler's success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The work is done (or was already done): ack.
    Done,
    /// Nothing to do for this event (e.g. a notification type we ignore): ack.
    Ignored(String),
}

/// What should happen to a delivery whose handler failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// A dependency is down or a lock is held: let Pub/Sub redeliver with backoff.
    /// `quiet` retries are expected (a duplicate in flight) and logged below ERROR.
    Retry {
        /// Log below ERROR.
        quiet: bool,
    },
    /// The event can never succeed: dead-letter it with the reason, then ack.
    Reject,
}

/// A handler error that knows whether it is worth retrying.
pub trait Classify: std::error::Error + Send + Sync + 'static {
    /// Retry or reject.
    fn disposition(&self) -> Disposition;
}

/// Why the runtime refused a delivery before any handler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The request is no delivery form we know, or its envelope is broken.
    Undecodable,
    /// The event type is not handled by this service.
    UnknownType,
    /// The payload is invalid for its type.
    InvalidPayload,
    /// The handler rejected it.
    Handler,
}

impl RejectKind {
    /// The value of the `error-type` attribute on the dead-lettered message.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable-delivery",
            Self::UnknownType => "unknown-event-type",
            Self::InvalidPayload => "invalid-payload",
            Self::Handler => "rejected-by-handler",
        }
    }
}

impl fmt::Display for RejectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&events::DecodeError> for RejectKind {
    fn from(e: &events::DecodeError) -> Self {
        use events::DecodeError as D;
        match e {
            D::MissingType | D::UnknownType { .. } => Self::UnknownType,
            D::InvalidPayload { .. } => Self::InvalidPayload,
            _ => Self::Undecodable,
        }
    }
}

/// The runtime's final word on a delivery; decides the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Handled now: 204.
    Done,
    /// Nothing to do: 204.
    Ignored(String),
    /// Already handled earlier (idempotency ledger): 204, the handler did not run.
    Duplicate,
    /// Redeliver later: 503.
    Retry {
        /// Why.
        reason: String,
        /// Expected (e.g. duplicate in flight): log below ERROR.
        quiet: bool,
    },
    /// Dead-lettered with its reason, then acked: 204.
    Rejected {
        /// The `error-type`.
        kind: RejectKind,
        /// The `error-reason`.
        reason: String,
    },
}

impl Decision {
    /// The status Pub/Sub sees: 2xx acks, anything else redelivers.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Retry { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::NO_CONTENT,
        }
    }

    /// A short name for logs and the replay output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Ignored(_) => "ignored",
            Self::Duplicate => "duplicate",
            Self::Retry { .. } => "retry",
            Self::Rejected { .. } => "rejected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_retries_are_not_acked() {
        let retry = Decision::Retry {
            reason: "db down".into(),
            quiet: false,
        };
        assert_eq!(retry.status(), StatusCode::SERVICE_UNAVAILABLE);
        for acked in [
            Decision::Done,
            Decision::Duplicate,
            Decision::Ignored("other event".into()),
            Decision::Rejected {
                kind: RejectKind::Handler,
                reason: "bad name".into(),
            },
        ] {
            assert_eq!(acked.status(), StatusCode::NO_CONTENT, "{acked:?}");
        }
    }

    #[test]
    fn decode_errors_map_to_their_reject_kind() {
        let unknown = events::DecodeError::UnknownType {
            ty: "x".into(),
            accepted: "y".into(),
        };
        assert_eq!(RejectKind::from(&unknown), RejectKind::UnknownType);
        let broken = events::DecodeError::MissingField("message");
        assert_eq!(RejectKind::from(&broken), RejectKind::Undecodable);
    }
}

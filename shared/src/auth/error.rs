//! Why a push request failed authentication, precise enough to act on from a log line.
//!
//! Every variant but [`AuthError::JwksUnavailable`] is the caller's fault and maps to 401; an
//! unreachable key set is ours (or Google's) and maps to 503 so Pub/Sub redelivers later
//! instead of the message being counted as refused. No variant carries the token itself.

use http::StatusCode;

/// A push request's `Authorization` header did not prove a Google-signed, allowed caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The request has no `Authorization` header.
    #[error("no Authorization header")]
    MissingHeader,
    /// The `Authorization` header does not use the `Bearer` scheme.
    #[error("the Authorization header is not a Bearer token")]
    NotBearer,
    /// The bearer token is not a well-formed JWT (or lacks a key id in its header).
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The token is signed with an algorithm other than RS256.
    #[error("token algorithm {0} is not accepted (RS256 only)")]
    UnsupportedAlgorithm(String),
    /// The token names a signing key that Google's key set does not contain.
    #[error("token is signed with unknown key id {kid:?}")]
    UnknownKey {
        /// The `kid` from the token header.
        kid: String,
    },
    /// The signature does not verify against the key the token names.
    #[error("bad token signature")]
    BadSignature,
    /// The issuer is not `accounts.google.com` / `https://accounts.google.com`.
    #[error("wrong token issuer (expected accounts.google.com)")]
    WrongIssuer,
    /// The audience is not the configured one.
    #[error("wrong token audience, expected {expected:?}")]
    WrongAudience {
        /// The audience this service is configured with.
        expected: String,
    },
    /// The token expired (beyond the allowed clock skew).
    #[error("token expired")]
    Expired,
    /// A claim the check needs (`exp`, `iss`, `aud`, `sub`, `email`) is absent.
    #[error("token lacks the {0:?} claim")]
    MissingClaim(String),
    /// The token's `email_verified` claim is not `true`.
    #[error("token email {email:?} is not verified")]
    EmailNotVerified {
        /// The caller's email claim.
        email: String,
    },
    /// The caller's email is not in the configured allowlist.
    #[error("caller {email:?} is not an allowed push identity")]
    EmailNotAllowed {
        /// The caller's email claim.
        email: String,
    },
    /// Google's key set could not be fetched, so the token could not be checked at all.
    #[error("signing keys unavailable: {0}")]
    JwksUnavailable(String),
}

impl AuthError {
    /// Whether the request may succeed unchanged later: only when the keys were unreachable.
    pub fn is_retryable(&self) -> bool {
        matches!(self, AuthError::JwksUnavailable(_))
    }

    /// The HTTP status the runtime answers with: 503 when retryable, otherwise 401.
    pub fn status(&self) -> StatusCode {
        if self.is_retryable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNAUTHORIZED
        }
    }
}

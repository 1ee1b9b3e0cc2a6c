//! Push authentication: checks the Google-signed OIDC token Pub/Sub attaches to each push.
//!
//! The token must be RS256, issued by Google, for our audience, unexpired, and carry a
//! verified email that the allowlist names. An empty allowlist admits no one: anyone can
//! mint a Google-signed token for any audience with their own service account. Keys come from Google's JWKS, fetched
//! lazily and cached (see [`jwks`]), so constructing a [`PushAuth`] costs no network round trip
//! and start-up stays fast. Tokens are bearer credentials: nothing here logs or stores one.

mod error;
mod jwks;

use http::HeaderValue;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

pub use error::AuthError;

/// Where Google publishes the keys that sign its OIDC tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// The issuers Google uses in OIDC tokens (both spellings occur).
const GOOGLE_ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];

/// Clock skew tolerated on `exp`, in seconds: small, since Cloud Run and Google share NTP.
const LEEWAY_SECS: u64 = 30;

/// What a push request must prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The expected `aud` claim (the push subscription's configured audience).
    pub audience: String,
    /// Service-account emails allowed to push; empty admits no one.
    pub allowed_emails: Vec<String>,
    /// Where to fetch signing keys; [`GOOGLE_JWKS_URL`] unless testing.
    pub jwks_url: String,
}

impl AuthConfig {
    /// Checks `audience` against Google's keys; set `allowed_emails`, or every caller is
    /// refused.
    pub fn new(audience: impl Into<String>) -> Self {
        AuthConfig {
            audience: audience.into(),
            allowed_emails: Vec::new(),
            jwks_url: GOOGLE_JWKS_URL.to_owned(),
        }
    }
}

/// Who made an authenticated push request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCaller {
    /// The caller's verified email (the push subscription's service account).
    pub email: String,
    /// The caller's stable Google subject id (`sub`).
    pub subject: String,
}

/// The claims we read; everything else in the token is ignored.
#[derive(Deserialize)]
struct GoogleClaims {
    // Presence is enforced by `Validation` (required claim), which reports it precisely.
    #[serde(default)]
    sub: String,
    email: Option<String>,
    // Google sends a boolean; some older issuers sent the string "true", which we also accept.
    email_verified: Option<serde_json::Value>,
}

/// Verifies push requests' OIDC tokens; build once and share (it holds the key cache).
#[derive(Debug)]
pub struct PushAuth {
    audience: String,
    allowed_emails: Vec<String>,
    validation: Validation,
    keys: jwks::Jwks,
}

impl PushAuth {
    /// Prepares verification; no network access happens until the first [`PushAuth::verify`].
    pub fn new(config: AuthConfig) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&GOOGLE_ISSUERS);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        PushAuth {
            audience: config.audience,
            allowed_emails: config.allowed_emails,
            validation,
            keys: jwks::Jwks::new(config.jwks_url),
        }
    }

    /// Checks the request's `Authorization` header and returns the caller it proves.
    pub async fn verify(
        &self,
        authorization: Option<&HeaderValue>,
    ) -> Result<VerifiedCaller, AuthError> {
        let token = bearer_token(authorization)?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| self.classify(e))?;
        // Checked before the key lookup so a forged alg never costs a JWKS fetch.
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::UnsupportedAlgorithm(format!("{:?}", header.alg)));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Malformed("token header has no kid".to_owned()))?;
        let key = self.keys.key(&kid).await?;
        let claims = jsonwebtoken::decode::<GoogleClaims>(token, &key, &self.validation)
            .map_err(|e| self.classify(e))?
            .claims;
        self.check_email(claims)
    }

    fn check_email(&self, claims: GoogleClaims) -> Result<VerifiedCaller, AuthError> {
        let email = claims
            .email
            .ok_or_else(|| AuthError::MissingClaim("email".to_owned()))?;
        let verified = match claims.email_verified {
            Some(serde_json::Value::Bool(flag)) => flag,
            Some(serde_json::Value::String(text)) => text == "true",
            _ => false,
        };
        if !verified {
            return Err(AuthError::EmailNotVerified { email });
        }
        let allowed = self
            .allowed_emails
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(&email));
        if !allowed {
            return Err(AuthError::EmailNotAllowed { email });
        }
        Ok(VerifiedCaller {
            email,
            subject: claims.sub,
        })
    }

    fn classify(&self, error: jsonwebtoken::errors::Error) -> AuthError {
        match error.into_kind() {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::InvalidAudience => AuthError::WrongAudience {
                expected: self.audience.clone(),
            },
            ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim),
            ErrorKind::InvalidAlgorithm => AuthError::UnsupportedAlgorithm("mismatch".to_owned()),
            other => AuthError::Malformed(jsonwebtoken::errors::Error::from(other).to_string()),
        }
    }
}

/// The token from `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1).
fn bearer_token(authorization: Option<&HeaderValue>) -> Result<&str, AuthError> {
    let value = authorization.ok_or(AuthError::MissingHeader)?;
    let value = value.to_str().map_err(|_| {
        AuthError::Malformed("Authorization header is not visible ASCII".to_owned())
    })?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Malformed("empty bearer token".to_owned()));
    }
    Ok(token)
}

//! Reading HTTP headers and timestamps the way every delivery form needs them.

use chrono::{DateTime, Utc};
use http::HeaderMap;

use crate::DecodeError;

/// A header's value as text, or `None` when absent. A value that is not visible ASCII is an
/// error naming the header, rather than silently dropped.
pub(super) fn text<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
) -> Result<Option<&'h str>, DecodeError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => {
            value
                .to_str()
                .map(|s| Some(s.trim()))
                .map_err(|_| DecodeError::InvalidField {
                    field: name,
                    reason: "the header value is not visible ASCII".into(),
                })
        }
    }
}

/// The media type of `Content-Type`, lowercased, without parameters.
pub(super) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next().unwrap_or_default();
    Some(media.trim().to_ascii_lowercase())
}

/// Parses an RFC 3339 timestamp with any number of fractional digits (Pub/Sub sends 0, 3, 6
/// or 9) and any offset, into UTC.
pub(super) fn parse_time(field: &'static str, value: &str) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DecodeError::InvalidField {
            field,
            reason: format!("{value:?} is not an RFC 3339 timestamp ({e})"),
        })
}

/// Decodes `%XX` escapes, as the CloudEvents HTTP binding requires of `ce-*` header values
/// (the CloudEvents SDK's binding leaves them encoded). A `%` not followed by two hex digits
/// stays as it is; a value that does not decode to UTF-8 is kept as sent.
pub(super) fn percent_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map_or_else(|_| value.to_owned(), |decoded| decoded.into_owned())
}

/// Headers that belong to the HTTP transport or to Google's front ends, never to a message:
/// everything else in an unwrapped push is a Pub/Sub attribute.
pub(super) fn is_transport(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "host",
        "content-length",
        "authorization",
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
        "forwarded",
        "via",
        "traceparent",
        "tracestate",
        "x-cloud-trace-context",
        "from",
        "te",
        "upgrade",
        "expect",
        "transfer-encoding",
        "x-request-id",
    ];
    const PREFIXES: &[&str] = &[
        "x-forwarded-",
        "x-goog-",
        "x-google-",
        "x-envoy-",
        "x-appengine-",
    ];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

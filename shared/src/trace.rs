//! Trace correlation: the request's W3C `traceparent` or Google's `X-Cloud-Trace-Context`
//! becomes the parent of the delivery's span, so its log lines join the request's trace.
//!
//! Parsed by hand: both formats are one line each, and the OpenTelemetry SDK (which has a
//! `traceparent` propagator, but none for Google's header) would be a large dependency for it.

use http::HeaderMap;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Makes the trace in `headers`, if any, the parent of `span`.
pub fn adopt_parent(span: &Span, headers: &HeaderMap) {
    if let Some(context) = remote_context(headers) {
        span.set_parent(opentelemetry::Context::new().with_remote_span_context(context));
    }
}

/// The caller's span context: `traceparent` first, then `X-Cloud-Trace-Context`.
pub fn remote_context(headers: &HeaderMap) -> Option<SpanContext> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("traceparent")
        .and_then(parse_traceparent)
        .or_else(|| header("x-cloud-trace-context").and_then(parse_cloud_trace_context))
}

/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`.
fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
        return None;
    }
    let trace_id = TraceId::from_hex(trace).ok()?;
    let span_id = SpanId::from_hex(span).ok()?;
    let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()?);
    valid(trace_id, span_id, flags & TraceFlags::SAMPLED)
}

/// `<32 hex trace id>/<decimal span id>;o=<0|1>` (the options part is optional).
fn parse_cloud_trace_context(value: &str) -> Option<SpanContext> {
    let (ids, options) = value.trim().split_once(';').unwrap_or((value.trim(), ""));
    let (trace, span) = ids.split_once('/').unwrap_or((ids, "0"));
    if trace.len() != 32 {
        return None;
    }
    let trace_id = TraceId::from_hex(trace).ok()?;
    let span_id = SpanId::from_bytes(span.parse::<u64>().ok()?.to_be_bytes());
    let sampled = options.trim() == "o=1";
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    valid(trace_id, span_id, flags)
}

fn valid(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> Option<SpanContext> {
    // Google's header may carry span id 0 when the caller has no span; the trace still counts.
    let span_id = if span_id == SpanId::INVALID {
        SpanId::from_bytes([0, 0, 0, 0, 0, 0, 0, 1])
    } else {
        span_id
    };
    let context = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
    context.is_valid().then_some(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn traceparent_gives_trace_span_and_sampling() {
        let ctx = parse_traceparent(&format!("00-{TRACE}-00f067aa0ba902b7-01")).unwrap();
        assert_eq!(ctx.trace_id().to_string(), TRACE);
        assert_eq!(ctx.span_id().to_string(), "00f067aa0ba902b7");
        assert!(ctx.is_sampled());
    }

    #[test]
    fn cloud_trace_context_takes_a_decimal_span_id() {
        let ctx = parse_cloud_trace_context(&format!("{TRACE}/1;o=1")).unwrap();
        assert_eq!(ctx.trace_id().to_string(), TRACE);
        assert_eq!(ctx.span_id().to_string(), "0000000000000001");
        assert!(ctx.is_sampled());
        assert!(
            parse_cloud_trace_context(TRACE).is_some(),
            "span and options are optional"
        );
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for bad in [
            "",
            "00-xyz-00f067aa0ba902b7-01",
            &format!("01-{TRACE}-00f067aa0ba902b7-01"),
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad}");
        }
        assert!(parse_traceparent(&format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32))).is_none());
        assert!(parse_cloud_trace_context("short/1;o=1").is_none());
    }

    #[test]
    fn traceparent_wins_over_the_google_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-cloud-trace-context",
            format!("{}/5;o=1", "1".repeat(32)).parse().unwrap(),
        );
        headers.insert(
            "traceparent",
            format!("00-{TRACE}-00f067aa0ba902b7-00").parse().unwrap(),
        );
        assert_eq!(
            remote_context(&headers).unwrap().trace_id().to_string(),
            TRACE
        );
    }
}

//! The log capture sees every level, so secret-leak tests also cover DEBUG and TRACE lines.

use testbed::LogCapture;

#[test]
fn a_trace_capture_sees_debug_and_trace_lines() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = shared::telemetry::subscriber_at(
        "my-project",
        "runtime-test",
        true,
        move || writer.clone(),
        tracing::Level::TRACE,
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(marker = "debug-line", "debug");
        tracing::trace!(marker = "trace-line", "trace");
    });
    let text = capture.text();
    assert!(text.contains("debug-line"), "{text}");
    assert!(text.contains("trace-line"), "{text}");
}

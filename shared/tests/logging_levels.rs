//! The log capture sees every level, so secret-leak tests also cover DEBUG and TRACE lines.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_trace_capture_sees_debug_and_trace_lines() {
    let capture = Capture::default();
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
    let text = String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(text.contains("debug-line"), "{text}");
    assert!(text.contains("trace-line"), "{text}");
}

//! Logging in Cloud Logging's JSON format, with trace correlation and Error Reporting.
//!
//! tracing-stackdriver writes the LogEntry JSON (severity, span fields, source location) and,
//! through its OpenTelemetry integration, `logging.googleapis.com/trace` from the span's
//! parent context, which [`crate::trace`] takes from the request's trace header. Error
//! Reporting needs `@type` and `serviceContext` on ERROR entries; tracing-stackdriver
//! camel-cases field names (which would turn `@type` into `type`), so [`ErrorReporting`] adds
//! them to ERROR lines as they are written.

use std::io::{self, Write};

use tracing::Subscriber;
use tracing_stackdriver::CloudTraceConfiguration;
use tracing_subscriber::{
    filter::LevelFilter, fmt::MakeWriter, layer::SubscriberExt, EnvFilter, Registry,
};

const REPORTED_ERROR_EVENT: &str =
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent";

/// Installs the global subscriber writing to stdout. `RUST_LOG` filters (default `info`).
pub fn init(project: &str, service: &str, json: bool) {
    let subscriber = subscriber(project, service, json, io::stdout);
    // A second init (tests that start two services in one process) keeps the first.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The subscriber, writing to `writer` — tests pass a buffer and assert on the JSON lines.
/// `RUST_LOG` filters (default `info`).
pub fn subscriber<W>(project: &str, service: &str, json: bool, writer: W) -> impl Subscriber
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    with_filter(project, service, json, writer, filter)
}

/// The same subscriber keeping every event at `level` and above, whatever `RUST_LOG` says:
/// tests that prove a secret never reaches the logs capture at `TRACE`.
pub fn subscriber_at<W>(
    project: &str,
    service: &str,
    json: bool,
    writer: W,
    level: tracing::Level,
) -> impl Subscriber
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::default().add_directive(LevelFilter::from_level(level).into());
    with_filter(project, service, json, writer, filter)
}

fn with_filter<W>(
    project: &str,
    service: &str,
    json: bool,
    writer: W,
    filter: EnvFilter,
) -> impl Subscriber
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let (stackdriver, text) = if json {
        let layer = tracing_stackdriver::layer()
            .with_cloud_trace(CloudTraceConfiguration {
                project_id: project.to_owned(),
            })
            .with_writer(ErrorReporting {
                inner: writer,
                service: service.to_owned(),
            });
        (Some(layer), None)
    } else {
        let layer = tracing_subscriber::fmt::layer().with_writer(writer);
        (None, Some(layer))
    };
    Registry::default()
        .with(tracing_opentelemetry::layer())
        .with(filter)
        .with(stackdriver)
        .with(text)
}

/// A writer that marks ERROR entries for Error Reporting.
pub struct ErrorReporting<W> {
    inner: W,
    service: String,
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for ErrorReporting<W> {
    type Writer = ErrorReportingWriter<'a, W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        ErrorReportingWriter {
            inner: self.inner.make_writer(),
            service: &self.service,
        }
    }
}

/// See [`ErrorReporting`]. Receives one whole JSON line per write.
pub struct ErrorReportingWriter<'a, W> {
    inner: W,
    service: &'a str,
}

impl<W: Write> Write for ErrorReportingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Only ERROR lines are parsed; every other line passes through untouched.
        if !contains(buf, br#""severity":"ERROR""#) {
            return self.inner.write(buf);
        }
        let Ok(serde_json::Value::Object(mut entry)) = serde_json::from_slice(buf) else {
            return self.inner.write(buf);
        };
        entry.insert("@type".into(), REPORTED_ERROR_EVENT.into());
        entry.insert(
            "serviceContext".into(),
            serde_json::json!({ "service": self.service }),
        );
        let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        line.push(b'\n');
        self.inner.write_all(&line)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

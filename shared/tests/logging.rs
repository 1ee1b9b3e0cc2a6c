//! Log lines are Cloud Logging JSON: every line of a delivery carries the event id and type,
//! the caller's trace joins `logging.googleapis.com/trace`, and errors are shaped for Error
//! Reporting. (One test per process: the subscriber is global.)

mod support;

use std::sync::{atomic::AtomicUsize, Arc};

use shared::backends::{publisher::RecordingPublisher, Plan};
use support::{counting_handler, ctx, options, ping, spawn};
use testbed::LogCapture;

#[tokio::test]
async fn delivery_logs_carry_event_trace_and_error_reporting_fields() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber =
        shared::telemetry::subscriber("my-project", "runtime-test", true, move || writer.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let runs = Arc::new(AtomicUsize::new(0));
    let publisher = Arc::new(RecordingPublisher::new(Plan::default()));
    let service = spawn(counting_handler(runs), ctx(publisher), options("dlq"), None).await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    reqwest::Client::new()
        .post(&service.url)
        .header("x-cloud-trace-context", format!("{trace}/7;o=1"))
        .body(ping("retry", "log-1"))
        .send()
        .await
        .unwrap();

    let lines = capture.json_lines();
    let failure = lines
        .iter()
        .find(|l| l["decision"] == "retry")
        .unwrap_or_else(|| panic!("no retry line in {lines:#?}"));
    assert_eq!(failure["severity"], "ERROR");
    assert_eq!(failure["span"]["event_id"], "log-1");
    assert_eq!(failure["span"]["event_type"], support::Ping::TYPE_NAME);
    assert_eq!(
        failure["logging.googleapis.com/trace"],
        format!("projects/my-project/traces/{trace}")
    );
    assert_eq!(
        failure["@type"],
        "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
    );
    assert_eq!(failure["serviceContext"]["service"], "runtime-test");
    assert!(failure["reason"]
        .as_str()
        .unwrap()
        .contains("asked to retry"));
}

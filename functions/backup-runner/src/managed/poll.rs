//! Managed exports polled with the runtime's bounded poller; their default bounds, and the
//! one way both exports report an operation that did not finish.

use std::time::Duration;

use shared::poll::NotFinished;
pub use shared::poll::Polling;

use super::error::ManagedError;

/// Every 10 s for a little over 8 minutes: inside Pub/Sub's longest ack deadline (600 s), so
/// a delivery gives up and is redelivered rather than pushed again beside itself. A longer
/// export is no failure: the redelivery meets the instance busy (a retry) until the object
/// exists (done).
pub const EXPORT_POLLING: Polling = Polling {
    interval: Duration::from_secs(10),
    max_polls: 50,
};

/// A poll's error as it was; polls run out: [`ManagedError::StillRunning`] (a retry: a
/// redelivery finds the object, or the instance still busy).
pub(super) fn not_finished(
    e: NotFinished<ManagedError>,
    instance: &str,
    operation: &str,
) -> ManagedError {
    match e {
        NotFinished::Failed(e) => e,
        NotFinished::StillRunning { polls } => ManagedError::StillRunning {
            instance: instance.to_owned(),
            operation: operation.to_owned(),
            polls,
        },
    }
}

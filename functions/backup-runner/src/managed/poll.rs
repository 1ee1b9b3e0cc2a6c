//! Polling an operation until it is done, a bounded number of times.

use std::future::Future;
use std::time::Duration;

use super::error::ManagedError;

/// How often and how many times an operation is polled. Passed in, so tests poll fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The wait before each poll.
    pub interval: Duration,
    /// The most polls before giving up (the delivery is retried, not failed).
    pub max_polls: u32,
}

impl Default for Polling {
    /// Every 10 s for a little over 8 minutes: inside Pub/Sub's longest ack deadline
    /// (600 s), so a delivery gives up and is redelivered rather than pushed again beside
    /// itself. A longer export is no failure: the redelivery meets the instance busy (a
    /// retry) until the object exists (done).
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            max_polls: 50,
        }
    }
}

/// Calls `poll` after each interval until it returns `Some`. When the polls run out first,
/// the export is [`ManagedError::StillRunning`] (a retry: a redelivery finds the object, or
/// the instance still busy). A poll's error ends the polling.
pub(super) async fn poll_until<T, F, Fut>(
    polling: Polling,
    instance: &str,
    operation: &str,
    mut poll: F,
) -> Result<T, ManagedError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ManagedError>>,
{
    for _ in 0..polling.max_polls {
        tokio::time::sleep(polling.interval).await;
        if let Some(done) = poll().await? {
            return Ok(done);
        }
    }
    Err(ManagedError::StillRunning {
        instance: instance.to_owned(),
        operation: operation.to_owned(),
        polls: polling.max_polls,
    })
}

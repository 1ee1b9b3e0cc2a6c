//! Polling a Cloud SQL operation until it is DONE, a bounded number of times (Cloud SQL's
//! own `Operation` type has no LRO poller), with `backon` doing the waiting and counting.

use std::future::Future;
use std::time::Duration;

use backon::{ConstantBuilder, Retryable};

use super::BackendError;

/// How often and how many times an operation is polled. Passed in, so tests poll fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The wait between polls.
    pub interval: Duration,
    /// The most polls (at least one) before giving up: a retryable
    /// [`BackendError::StillRunning`].
    pub max_polls: u32,
}

impl Default for Polling {
    /// Every 5 s for up to 5 minutes: stopping or starting an instance takes a minute or
    /// two, and giving up well inside Pub/Sub's longest ack deadline (600 s) means a
    /// redelivery, which finds the instance already changed, rather than a duplicate push.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            max_polls: 60,
        }
    }
}

/// One poll's answer when it has no finished operation to give.
pub(super) enum NotDone {
    /// Still running: poll again.
    Running,
    /// The poll itself failed: stop.
    Failed(BackendError),
}

/// Calls `poll` until it returns the finished operation, at most `max_polls` times.
pub(super) async fn poll_until<T, F, Fut>(
    polling: Polling,
    resource: &str,
    operation: &str,
    poll: F,
) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, NotDone>>,
{
    let backoff = ConstantBuilder::default()
        .with_delay(polling.interval)
        .with_max_times(polling.max_polls.saturating_sub(1) as usize);
    let polled = (poll.retry(backoff))
        .when(|e| matches!(e, NotDone::Running))
        .await;
    polled.map_err(|e| match e {
        NotDone::Failed(e) => e,
        NotDone::Running => BackendError::StillRunning {
            resource: resource.to_owned(),
            operation: operation.to_owned(),
            polls: polling.max_polls,
        },
    })
}

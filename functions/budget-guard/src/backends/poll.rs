//! Polling a Cloud SQL operation until it is done, a bounded number of times (Cloud SQL's
//! own `Operation` type has no LRO poller).

use std::future::Future;
use std::time::Duration;

use super::BackendError;

/// How often and how many times an operation is polled. Passed in, so tests poll fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The wait before each poll.
    pub interval: Duration,
    /// The most polls before giving up (a retryable [`BackendError::StillRunning`]).
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

/// Calls `poll` after each interval until it returns `Some`; a poll's error ends it.
pub(super) async fn poll_until<T, F, Fut>(
    polling: Polling,
    resource: &str,
    operation: &str,
    mut poll: F,
) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, BackendError>>,
{
    for _ in 0..polling.max_polls {
        tokio::time::sleep(polling.interval).await;
        if let Some(done) = poll().await? {
            return Ok(done);
        }
    }
    Err(BackendError::StillRunning {
        resource: resource.to_owned(),
        operation: operation.to_owned(),
        polls: polling.max_polls,
    })
}

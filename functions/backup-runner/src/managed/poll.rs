//! Polling an operation until it is done, a bounded number of times.

use std::future::Future;
use std::time::Duration;

/// How often and how many times an operation is polled. Passed in, so tests poll fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The wait before each poll.
    pub interval: Duration,
    /// The most polls before giving up (the delivery is retried, not failed).
    pub max_polls: u32,
}

impl Default for Polling {
    /// Every 10 s for up to 50 minutes: Cloud SQL and Memorystore exports of a few GB.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            max_polls: 300,
        }
    }
}

/// Calls `poll` after each interval until it returns `Some`; `Ok(None)` when the polls ran
/// out first. A poll's error ends the polling.
pub(super) async fn poll_until<T, E, F, Fut>(polling: Polling, mut poll: F) -> Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    for _ in 0..polling.max_polls {
        tokio::time::sleep(polling.interval).await;
        if let Some(done) = poll().await? {
            return Ok(Some(done));
        }
    }
    Ok(None)
}

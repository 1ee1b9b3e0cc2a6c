//! Polling an operation until it is done, a bounded number of times, for Google APIs whose
//! operations have no poller of their own (Cloud SQL's `Operation`) or whose poller's bounds
//! are not ours: every service gives up the same way, well inside Pub/Sub's ack deadline, so
//! a redelivery (which finds the work done, or still running) follows instead of a duplicate
//! push. `backon` does the waiting and the counting.

use std::future::Future;
use std::time::Duration;

use backon::{ConstantBuilder, Retryable};

/// How often and how many times an operation is polled. Each service picks its own (a stop
/// takes a minute or two, an export longer); tests poll fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The wait between polls.
    pub interval: Duration,
    /// The most polls (at least one) before giving up.
    pub max_polls: u32,
}

/// Why [`poll_until`] returned without a finished operation.
#[derive(Debug)]
pub enum NotFinished<E> {
    /// A poll failed; polling stopped there.
    Failed(E),
    /// Still running after every poll.
    StillRunning {
        /// How many polls were made.
        polls: u32,
    },
}

/// Calls `poll` until it returns `Some` (the finished operation), at most
/// `polling.max_polls` times, waiting `polling.interval` between calls.
pub async fn poll_until<T, E, F, Fut>(polling: Polling, mut poll: F) -> Result<T, NotFinished<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    let backoff = ConstantBuilder::default()
        .with_delay(polling.interval)
        .with_max_times(polling.max_polls.saturating_sub(1) as usize);
    let once = || {
        let polled = poll();
        async move {
            match polled.await {
                Ok(Some(done)) => Ok(done),
                Ok(None) => Err(None),
                Err(e) => Err(Some(e)),
            }
        }
    };
    once.retry(backoff)
        .when(Option::is_none)
        .await
        .map_err(|e| match e {
            Some(e) => NotFinished::Failed(e),
            None => NotFinished::StillRunning {
                polls: polling.max_polls,
            },
        })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    const FAST: Polling = Polling {
        interval: Duration::from_millis(1),
        max_polls: 4,
    };

    #[tokio::test]
    async fn polls_until_done_and_no_more() {
        let calls = AtomicU32::new(0);
        let done = poll_until(FAST, || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok::<_, ()>((n == 3).then_some(n))
        })
        .await;
        assert!(matches!(done, Ok(3)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn gives_up_after_max_polls_and_stops_at_the_first_failure() {
        let calls = AtomicU32::new(0);
        let running = poll_until(FAST, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<Option<()>, ()>(None)
        })
        .await;
        assert!(matches!(
            running,
            Err(NotFinished::StillRunning { polls: 4 })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let failed = poll_until(FAST, || async { Err::<Option<()>, _>("boom") }).await;
        assert!(matches!(failed, Err(NotFinished::Failed("boom"))));
    }
}

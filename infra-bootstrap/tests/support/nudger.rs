//! Works around a defect of the Pub/Sub emulator (cloud-pubsub-emulator 0.8.20) that the
//! long fault run kept hitting: on a subscription with a retry policy, once several pushes
//! fail at the same moment (a killed service, a stopped database), the emulator stops
//! redelivering that subscription's failed messages for good. Read from its bytecode: the
//! retry delays sit in a map from due time to a set of ack ids; a second pass re-inserts ids
//! that share a set under a new time, so one id is due twice; the periodic task that moves due
//! messages back nacks it twice, the second time hits a `NullPointerException`, and a
//! `ScheduledExecutorService` task that throws is never run again. Reproduced outside the
//! suite with eight messages to an endpoint that always answers 503: pushes stop after about
//! 4 s and never resume; one message alone is retried for as long as it fails.
//!
//! Real Pub/Sub redelivers until the retry policy gives up, so the suite restores that: when
//! no outcome has come for [`STALL`], it seeks every push subscription to the epoch, which in
//! the emulator makes each unacknowledged message deliverable again (acknowledged ones stay
//! acknowledged) and resets its delivery count. Every nudge is counted and shown in the table:
//! a scenario that settles only thanks to nudges says so.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long without a new outcome before the push subscriptions are nudged. Longer than any
/// honest wait here: the 6 s lease plus the local policy's 10 s maximum backoff.
pub const STALL: Duration = Duration::from_secs(30);

pub struct Nudger {
    nudges: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Nudger {
    /// Watches `progress` (a count that grows with every outcome) and nudges the emulator at
    /// `host` whenever it has stood still for [`STALL`].
    pub fn start(host: &str, project: &str, progress: impl Fn() -> usize + Send + 'static) -> Self {
        let nudges = Arc::new(AtomicUsize::new(0));
        let (count, base) = (nudges.clone(), format!("http://{host}/v1"));
        let project = project.to_owned();
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut last, mut since) = (progress(), Instant::now());
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let now = progress();
                if now != last {
                    (last, since) = (now, Instant::now());
                } else if since.elapsed() >= STALL {
                    // An emulator being restarted answers nothing: the next stall tries again.
                    if seek_push_subscriptions(&http, &base, &project)
                        .await
                        .is_ok()
                    {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    since = Instant::now();
                }
            }
        });
        Self { nudges, task }
    }

    /// Nudges so far.
    pub fn nudges(&self) -> usize {
        self.nudges.load(Ordering::Relaxed)
    }
}

impl Drop for Nudger {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Seeks every subscription with a push endpoint to the epoch.
async fn seek_push_subscriptions(
    http: &reqwest::Client,
    base: &str,
    project: &str,
) -> reqwest::Result<()> {
    let list: Value = http
        .get(format!(
            "{base}/projects/{project}/subscriptions?pageSize=1000"
        ))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let pushed = list["subscriptions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            s["pushConfig"]["pushEndpoint"]
                .as_str()
                .is_some_and(|e| !e.is_empty())
        });
    for subscription in pushed {
        let name = subscription["name"].as_str().unwrap();
        http.post(format!("{base}/{name}:seek"))
            .json(&json!({ "time": "1970-01-01T00:00:00Z" }))
            .send()
            .await?
            .error_for_status()?;
    }
    Ok(())
}

/// The table's note for a scenario during which the suite nudged `n` times.
pub fn note(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(
            " ({n} × seek after {} s without an outcome: the emulator's redelivery defect)",
            STALL.as_secs()
        ),
    }
}

//! The local scheduler: the emulator has no Cloud Scheduler, so this loop publishes each
//! job's message at its cron times (in its time zone), and `run-job` fires one at once.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use super::{job_message, JobMessage};
use crate::manifest::{validate::parse_cron, Job, Manifest};
use shared::backends::publisher::Publisher;

/// Time, injectable so tests need not wait for 02:00.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// Returns at `at` (at once if it has passed).
    async fn sleep_until(&self, at: DateTime<Utc>);
}

/// The wall clock.
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    async fn sleep_until(&self, at: DateTime<Utc>) {
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
    }
}

/// One published job run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub job: String,
    pub at: DateTime<Utc>,
    pub message_id: String,
}

struct Scheduled {
    job: Job,
    cron: croner::Cron,
    tz: chrono_tz::Tz,
}

/// The manifest's jobs, ready to run.
pub struct LocalScheduler {
    jobs: Vec<Scheduled>,
    publisher: Arc<dyn Publisher>,
}

impl LocalScheduler {
    /// Parses every job's schedule and time zone (already validated with the manifest).
    pub fn new(manifest: &Manifest, publisher: Arc<dyn Publisher>) -> anyhow::Result<Self> {
        let jobs = manifest
            .jobs
            .iter()
            .map(|job| {
                let cron = parse_cron(&job.schedule)
                    .map_err(|e| anyhow::anyhow!("job {}: {e}", job.name))?;
                let tz = chrono_tz::Tz::from_str(&job.time_zone)
                    .map_err(|e| anyhow::anyhow!("job {}: {e}", job.name))?;
                Ok(Scheduled {
                    job: job.clone(),
                    cron,
                    tz,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { jobs, publisher })
    }

    /// Publishes `name`'s message now, as if its schedule fired at `at`.
    pub async fn run_job(&self, name: &str, at: DateTime<Utc>) -> anyhow::Result<Fired> {
        let s = self
            .jobs
            .iter()
            .find(|s| s.job.name == name)
            .ok_or_else(|| anyhow::anyhow!("no job named `{name}` in the manifest"))?;
        let message = run_message(&s.job, at)?;
        let message_id = self.publisher.publish(&s.job.topic, message.into()).await?;
        Ok(Fired {
            job: name.to_owned(),
            at,
            message_id,
        })
    }

    /// Fires each job at its times from `clock.now()` on, until `end` (forever if `None`).
    pub async fn run(
        &self,
        clock: &dyn Clock,
        end: Option<DateTime<Utc>>,
    ) -> anyhow::Result<Vec<Fired>> {
        let mut after = clock.now();
        let mut fired = Vec::new();
        loop {
            let next = self
                .jobs
                .iter()
                .filter_map(|s| {
                    s.cron
                        .find_next_occurrence(&after.with_timezone(&s.tz), false)
                        .ok()
                })
                .map(|t| t.with_timezone(&Utc))
                .min();
            let Some(next) = next else { return Ok(fired) };
            if end.is_some_and(|end| next > end) {
                return Ok(fired);
            }
            clock.sleep_until(next).await;
            for s in &self.jobs {
                if s.cron
                    .is_time_matching(&next.with_timezone(&s.tz))
                    .unwrap_or(false)
                {
                    let f = self.run_job(&s.job.name, next).await?;
                    eprintln!("fired {} at {} (message {})", f.job, f.at, f.message_id);
                    fired.push(f);
                }
            }
            after = next;
        }
    }
}

/// The job's static message plus an id and time per run, so a duplicate delivery of one
/// run is recognised and two runs are not confused.
pub fn run_message(job: &Job, at: DateTime<Utc>) -> anyhow::Result<JobMessage> {
    let mut message = job_message(job)?;
    let time = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    message
        .attributes
        .insert("ce-id".into(), format!("{}/{time}", job.name));
    message.attributes.insert("ce-time".into(), time);
    Ok(message)
}

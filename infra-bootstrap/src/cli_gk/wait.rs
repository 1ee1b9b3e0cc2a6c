//! `env wait`: block until an environment is ready (or failed), or deleted.
//!
//! It polls the control state rather than listening on the events topic: the row is the
//! truth whenever the command starts — `environment.ready` may well be published before a
//! CI step gets to `env wait`, and a subscription made afterwards would never see it — and
//! reading needs no rights to create (and remember to delete) a subscription.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use events::names::EnvName;
use sqlx::PgPool;

use super::env::NO_STATE;

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// `ready` (exit 0) or `failed` (exit 1). A `deleted` row is the name's previous life:
    /// the new request has not been picked up yet.
    Ready,
    /// `deleted`, or no environment of that name at all (exit 0).
    Deleted,
}

/// Exit code when the timeout passes first (as `timeout(1)` uses).
pub const TIMED_OUT: u8 = 124;

const POLL: Duration = Duration::from_millis(100);
const REMIND: Duration = Duration::from_secs(5);

/// Polls until `until` holds, printing a progress line on stderr for every change (and a
/// reminder every few seconds) and the final status on stdout.
pub async fn wait(
    pool: &PgPool,
    name: &EnvName,
    until: Until,
    timeout: Duration,
) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let (mut shown, mut last_line) = (String::new(), start);
    loop {
        let row: Option<(String, Option<serde_json::Value>)> =
            sqlx::query_as("SELECT status, failure FROM control.environments WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(pool)
                .await
                .map_err(|e| anyhow::anyhow!("{NO_STATE}: {e}"))?;
        let status = row
            .as_ref()
            .map_or("not requested yet", |(s, _)| s.as_str());
        match (until, status) {
            (Until::Ready, "ready") | (Until::Deleted, "deleted" | "not requested yet") => {
                println!("{}", if row.is_some() { status } else { "deleted" });
                return Ok(ExitCode::SUCCESS);
            }
            (Until::Ready, "failed") => {
                let failure = row.and_then(|(_, f)| f).unwrap_or_default();
                eprintln!(
                    "groundskeeper: {name} failed at step {}: {}",
                    failure["step"].as_str().unwrap_or("?"),
                    failure["reason"].as_str().unwrap_or("no reason recorded")
                );
                println!("failed");
                return Ok(ExitCode::FAILURE);
            }
            _ => {}
        }
        let elapsed = start.elapsed();
        if status != shown || last_line.elapsed() >= REMIND {
            eprintln!(
                "groundskeeper: {name}: {status} ({:.1}s)",
                elapsed.as_secs_f32()
            );
            (shown, last_line) = (status.to_owned(), Instant::now());
        }
        if elapsed >= timeout {
            eprintln!(
                "groundskeeper: gave up waiting for {name} after {}s (still {status})",
                timeout.as_secs()
            );
            return Ok(ExitCode::from(TIMED_OUT));
        }
        tokio::time::sleep(POLL).await;
    }
}

//! `env wait`: block until an environment is ready (or failed, or its request refused), or
//! deleted.
//!
//! It polls the control state rather than listening on the events topic: the row is the
//! truth whenever the command starts — `environment.ready` may well be published before a
//! CI step gets to `env wait`, and a subscription made afterwards would never see it — and
//! reading needs no rights to create (and remember to delete) a subscription.
//!
//! A request the provisioner refuses outright (tier prod, TTL above the maximum, quota, a
//! different spec under a live name) writes no environment row, only a decision in
//! `control.environment_requests`. Both are env-provisioner's tables, read through its
//! `inventory` API. With the request's id the wait follows exactly that
//! request; without one, a refusal of the name counts when it is newer than the
//! environment's row (or there is no row).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use env_provisioner::inventory::{self, Decision, Failure};
use events::names::EnvName;
use sqlx::PgPool;

use super::env::NO_STATE;

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Until {
    /// `ready` (exit 0), or `failed` / refused (exit 1). A `deleted` row is the name's
    /// previous life: the new request has not been picked up yet.
    Ready,
    /// `deleted`, or no environment of that name at all (exit 0).
    Deleted,
}

/// Exit code when the timeout passes first (as `timeout(1)` uses).
pub const TIMED_OUT: u8 = 124;

const POLL: Duration = Duration::from_millis(100);
const REMIND: Duration = Duration::from_secs(5);

/// Where the wait stands.
enum Seen {
    /// Not there yet; the word for the progress line.
    Pending(String),
    /// Done: ready, or deleted (with `--for deleted`).
    Reached(&'static str),
    /// Provisioning failed at a step.
    Failed { step: String, reason: String },
    /// The request was refused before anything was created.
    Refused(String),
}

/// Polls until `until` holds, printing a progress line on stderr for every change (and a
/// reminder every few seconds) and the final status on stdout. With `request`, waits for
/// the provisioner's decision on that request id (the CloudEvents id) first.
pub async fn wait(
    pool: &PgPool,
    name: &EnvName,
    until: Until,
    timeout: Duration,
    request: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let (mut shown, mut last_line) = (String::new(), start);
    loop {
        let status = match look(pool, name, until, request).await? {
            Seen::Pending(status) => status,
            Seen::Reached(status) => {
                println!("{status}");
                return Ok(ExitCode::SUCCESS);
            }
            Seen::Failed { step, reason } => {
                eprintln!("groundskeeper: {name} failed at step {step}: {reason}");
                println!("failed");
                return Ok(ExitCode::FAILURE);
            }
            Seen::Refused(reason) => {
                eprintln!("groundskeeper: the request for {name} was refused: {reason}");
                println!("refused");
                return Ok(ExitCode::FAILURE);
            }
        };
        let elapsed = start.elapsed();
        if status != shown || last_line.elapsed() >= REMIND {
            eprintln!(
                "groundskeeper: {name}: {status} ({:.1}s)",
                elapsed.as_secs_f32()
            );
            (shown, last_line) = (status.clone(), Instant::now());
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

/// One look at the control state (through env-provisioner's inventory).
async fn look(
    pool: &PgPool,
    name: &EnvName,
    until: Until,
    request: Option<&str>,
) -> anyhow::Result<Seen> {
    let state = |e: sqlx::Error| anyhow::anyhow!("{NO_STATE}: {e}");
    let row = inventory::get(pool, name).await.map_err(state)?;
    if until == Until::Deleted {
        return Ok(match row {
            None => Seen::Reached("deleted"),
            Some(e) if e.is_deleted() => Seen::Reached("deleted"),
            Some(e) => Seen::Pending(e.status),
        });
    }
    let refused = match request {
        Some(id) => match inventory::decision(pool, name, id).await.map_err(state)? {
            None => return Ok(Seen::Pending(format!("request {id} not taken up yet"))),
            Some(Decision::Accepted) => None,
            Some(Decision::Refused(reason)) => Some(reason),
        },
        None => inventory::latest_refusal(pool, name)
            .await
            .map_err(state)?
            .filter(|(_, at)| row.as_ref().is_none_or(|e| *at > e.updated_at))
            .map(|(reason, _)| reason),
    };
    if let Some(reason) = refused {
        return Ok(Seen::Refused(reason));
    }
    Ok(match row {
        None => Seen::Pending("not requested yet".into()),
        Some(e) if e.is_ready() => Seen::Reached("ready"),
        Some(e) if e.status == "failed" => {
            let failure = e.failure.unwrap_or_else(|| Failure {
                step: "?".into(),
                reason: "no reason recorded".into(),
            });
            Seen::Failed {
                step: failure.step,
                reason: failure.reason,
            }
        }
        Some(e) => Seen::Pending(e.status),
    })
}

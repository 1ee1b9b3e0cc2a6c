//! The idempotency ledger: each event runs once per service, even when Pub/Sub delivers it
//! many times at once.
//!
//! A delivery *claims* its event key with a lease. A duplicate that arrives while the lease
//! is held is told to retry quietly (by then the first has finished and the retry is acked as
//! a duplicate); one that arrives after completion is acked without running. If the process
//! crashes mid-task, the lease expires and the next redelivery runs the event again — the
//! handlers are idempotent, so that resumes rather than repeats.
//!
//! Every claim carries a fresh token, and settling (complete or release) matches it: a worker
//! that overran its lease cannot settle the claim of the delivery that took the event over.
//! Settled entries are pruned after a retention (see [`Ledger::with_retention`]).
//!
//! The ledger's own connections commit with `synchronous_commit = off`: losing the last few
//! ledger writes in a database crash costs at most a duplicate run of an idempotent handler,
//! and in exchange a claim costs no disk flush.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};
use uuid::Uuid;

// The migrator moved to its own module; the old paths keep working for callers elsewhere.
pub use crate::migrations::{control_migrator, VersionClash, MIGRATOR};

/// The ledger's verdict on a delivery.
#[derive(Debug)]
pub enum Claim {
    /// This delivery holds the lease: run the handler, then settle the guard.
    Claimed(ClaimGuard),
    /// The event was handled before: ack without running.
    AlreadyDone,
    /// Another delivery of the same event holds the lease: retry later.
    InFlight,
}

/// Why a claim could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The lease ran out and another delivery claimed the event: this one's outcome is not
    /// recorded, and that delivery's claim is left alone.
    #[error("the claim was lost: its lease ran out and another delivery took the event over")]
    Lost,
    /// The control database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The ledger for one service.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: PgPool,
    service: String,
    lease: Duration,
    force: bool,
    retention: Option<Duration>,
    last_prune: Arc<Mutex<Option<Instant>>>,
}

impl Ledger {
    /// Connects to the control database (already migrated: a deploy runs [`control_migrator`]
    /// once, through the service's `migrate` subcommand) and returns the ledger. It keeps its own small pool because its
    /// connections commit asynchronously, which no other control-state write may.
    pub async fn connect(
        url: &SecretString,
        service: &str,
        lease: Duration,
    ) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.expose_secret().parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options.options([("synchronous_commit", "off")]))
            .await?;
        Ok(Self::with_pool(pool, service, lease))
    }

    /// A ledger on an existing, migrated pool.
    pub fn with_pool(pool: PgPool, service: &str, lease: Duration) -> Self {
        Self {
            pool,
            service: service.to_owned(),
            lease,
            force: false,
            retention: None,
            last_prune: Arc::default(),
        }
    }

    /// A ledger whose claims also take over events already handled (`replay --force`). A live
    /// lease still wins: a forced run never runs beside another delivery.
    pub fn forcing(mut self) -> Self {
        self.force = true;
        self
    }

    /// Prunes this service's settled entries older than `retention`, one bounded batch at a
    /// time, at most every [`PRUNE_EVERY`] per instance, in the background of a claim (so the
    /// work happens while Cloud Run allocates CPU, never on the delivery's path).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// Claims `key` for this delivery.
    pub async fn claim(&self, key: &str) -> Result<Claim, sqlx::Error> {
        self.prune_if_due();
        let token = uuid::Uuid::new_v4();
        // Insert a fresh claim, or take over one whose lease has run out (a crashed attempt,
        // or one released for retry). A live lease or a finished event matches nothing,
        // unless forced, when a finished event is claimed again.
        let claimed: Option<i32> = sqlx::query_scalar(
            "INSERT INTO control.deliveries
                    (service, event_key, status, lease_until, claim_token)
             VALUES ($1, $2, 'running', now() + make_interval(secs => $3), $4)
             ON CONFLICT (service, event_key) DO UPDATE
                SET status = 'running', lease_until = EXCLUDED.lease_until,
                    claim_token = EXCLUDED.claim_token, decision = NULL,
                    attempts = control.deliveries.attempts + 1, updated_at = now()
              WHERE (control.deliveries.status = 'running'
                     AND control.deliveries.lease_until < now())
                 OR ($5 AND control.deliveries.status = 'done')
             RETURNING attempts",
        )
        .bind(&self.service)
        .bind(key)
        .bind(self.lease.as_secs_f64())
        .bind(token)
        .bind(self.force)
        .fetch_optional(&self.pool)
        .await?;
        if claimed.is_some() {
            return Ok(Claim::Claimed(ClaimGuard {
                ledger: Some(self.clone()),
                key: key.to_owned(),
                token,
            }));
        }
        let status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM control.deliveries WHERE service = $1 AND event_key = $2",
        )
        .bind(&self.service)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match status.as_deref() {
            Some("done") => Claim::AlreadyDone,
            _ => Claim::InFlight,
        })
    }

    async fn complete(&self, key: &str, token: Uuid, decision: &str) -> Result<(), SettleError> {
        let settled = sqlx::query(
            "UPDATE control.deliveries SET status = 'done', decision = $4, updated_at = now()
              WHERE service = $1 AND event_key = $2 AND claim_token = $3
                AND status = 'running'",
        )
        .bind(&self.service)
        .bind(key)
        .bind(token)
        .bind(decision)
        .execute(&self.pool)
        .await?;
        held(settled.rows_affected())
    }

    async fn release(&self, key: &str, token: Uuid) -> Result<(), SettleError> {
        let settled = sqlx::query(
            "UPDATE control.deliveries SET lease_until = '-infinity', updated_at = now()
              WHERE service = $1 AND event_key = $2 AND claim_token = $3
                AND status = 'running'",
        )
        .bind(&self.service)
        .bind(key)
        .bind(token)
        .execute(&self.pool)
        .await?;
        held(settled.rows_affected())
    }

    /// Deletes up to `batch` of this service's settled entries older than `retention`, oldest
    /// first; returns how many. Entries still running are kept whatever their age.
    pub async fn prune(&self, retention: Duration, batch: i64) -> Result<u64, sqlx::Error> {
        // A bounded batch through the partial index, so a prune never scans the table nor
        // holds many row locks.
        let pruned = sqlx::query(
            "DELETE FROM control.deliveries WHERE ctid IN (
                SELECT ctid FROM control.deliveries
                 WHERE service = $1 AND status = 'done'
                   AND updated_at < now() - make_interval(secs => $2)
                 ORDER BY updated_at LIMIT $3)",
        )
        .bind(&self.service)
        .bind(retention.as_secs_f64())
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(pruned.rows_affected())
    }

    /// Starts a background prune when one is due on this instance.
    fn prune_if_due(&self) {
        let Some(retention) = self.retention else {
            return;
        };
        {
            let mut last = self.last_prune.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < PRUNE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let ledger = self.clone();
        runtime.spawn(async move {
            match ledger.prune(retention, PRUNE_BATCH).await {
                Ok(pruned) => tracing::debug!(pruned, "pruned settled ledger entries"),
                Err(error) => tracing::warn!(%error, "could not prune the ledger; will try later"),
            }
        });
    }
}

/// How often one instance prunes (at most).
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Entries deleted per prune: a backlog clears over a few rounds, each one cheap.
const PRUNE_BATCH: i64 = 1000;

/// A settle that matched no row lost its claim.
fn held(rows: u64) -> Result<(), SettleError> {
    if rows == 0 {
        Err(SettleError::Lost)
    } else {
        Ok(())
    }
}

/// A held lease. Settle it with [`ClaimGuard::complete`] or [`ClaimGuard::release`]; if it is
/// dropped unsettled (a panic or a timeout cut the handler off), the lease is released in the
/// background so the redelivery can run at once instead of waiting for the lease to expire.
#[derive(Debug)]
pub struct ClaimGuard {
    ledger: Option<Ledger>,
    key: String,
    token: Uuid,
}

impl ClaimGuard {
    /// Marks the event handled; later deliveries are acked without running.
    /// [`SettleError::Lost`] when another delivery has claimed the event since.
    pub async fn complete(mut self, decision: &str) -> Result<(), SettleError> {
        match self.ledger.take() {
            Some(ledger) => ledger.complete(&self.key, self.token, decision).await,
            None => Ok(()),
        }
    }

    /// Gives the lease back so a redelivery runs the event again.
    /// [`SettleError::Lost`] when another delivery has claimed the event since.
    pub async fn release(mut self) -> Result<(), SettleError> {
        match self.ledger.take() {
            Some(ledger) => ledger.release(&self.key, self.token).await,
            None => Ok(()),
        }
    }

    /// Forgets the lease without releasing it, as a crashed process would (tests only).
    #[doc(hidden)]
    pub fn abandon(mut self) {
        self.ledger = None;
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let Some(ledger) = self.ledger.take() else {
            return;
        };
        let (key, token) = (std::mem::take(&mut self.key), self.token);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = ledger.release(&key, token).await {
                    tracing::warn!(%error, "could not release an abandoned lease; it will expire");
                }
            });
        }
    }
}

//! The idempotency ledger: each event runs once per service, even when Pub/Sub delivers it
//! many times at once.
//!
//! A delivery *claims* its event key with a lease. A duplicate that arrives while the lease
//! is held is told to retry quietly (by then the first has finished and the retry is acked as
//! a duplicate); one that arrives after completion is acked without running. If the process
//! crashes mid-task, the lease expires and the next redelivery runs the event again — the
//! handlers are idempotent, so that resumes rather than repeats.
//!
//! The ledger's own connections commit with `synchronous_commit = off`: losing the last few
//! ledger writes in a database crash costs at most a duplicate run of an idempotent handler,
//! and in exchange a claim costs no disk flush.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

/// The control database's migrations (ledger, local secrets, service state).
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

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

/// The ledger for one service.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: PgPool,
    service: String,
    lease: Duration,
}

impl Ledger {
    /// Connects to the control database (already migrated: the runtime runs [`MIGRATOR`]
    /// once at start) and returns the ledger. It keeps its own small pool because its
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
        }
    }

    /// Claims `key` for this delivery.
    pub async fn claim(&self, key: &str) -> Result<Claim, sqlx::Error> {
        // Insert a fresh claim, or take over one whose lease has run out (a crashed attempt,
        // or one released for retry). A live lease or a finished event matches nothing.
        let claimed: Option<i32> = sqlx::query_scalar(
            "INSERT INTO control.deliveries (service, event_key, status, lease_until)
             VALUES ($1, $2, 'running', now() + make_interval(secs => $3))
             ON CONFLICT (service, event_key) DO UPDATE
                SET status = 'running', lease_until = EXCLUDED.lease_until,
                    attempts = control.deliveries.attempts + 1, updated_at = now()
              WHERE control.deliveries.status = 'running'
                AND control.deliveries.lease_until < now()
             RETURNING attempts",
        )
        .bind(&self.service)
        .bind(key)
        .bind(self.lease.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        if claimed.is_some() {
            return Ok(Claim::Claimed(ClaimGuard {
                ledger: Some(self.clone()),
                key: key.to_owned(),
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

    async fn complete(&self, key: &str, decision: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE control.deliveries SET status = 'done', decision = $3, updated_at = now()
              WHERE service = $1 AND event_key = $2",
        )
        .bind(&self.service)
        .bind(key)
        .bind(decision)
        .execute(&self.pool)
        .await
        .map(drop)
    }

    async fn release(&self, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE control.deliveries SET lease_until = '-infinity', updated_at = now()
              WHERE service = $1 AND event_key = $2 AND status = 'running'",
        )
        .bind(&self.service)
        .bind(key)
        .execute(&self.pool)
        .await
        .map(drop)
    }
}

/// A held lease. Settle it with [`ClaimGuard::complete`] or [`ClaimGuard::release`]; if it is
/// dropped unsettled (a panic or a timeout cut the handler off), the lease is released in the
/// background so the redelivery can run at once instead of waiting for the lease to expire.
#[derive(Debug)]
pub struct ClaimGuard {
    ledger: Option<Ledger>,
    key: String,
}

impl ClaimGuard {
    /// Marks the event handled; later deliveries are acked without running.
    pub async fn complete(mut self, decision: &str) -> Result<(), sqlx::Error> {
        match self.ledger.take() {
            Some(ledger) => ledger.complete(&self.key, decision).await,
            None => Ok(()),
        }
    }

    /// Gives the lease back so a redelivery runs the event again.
    pub async fn release(mut self) -> Result<(), sqlx::Error> {
        match self.ledger.take() {
            Some(ledger) => ledger.release(&self.key).await,
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
        let key = std::mem::take(&mut self.key);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = ledger.release(&key).await {
                    tracing::warn!(%error, "could not release an abandoned lease; it will expire");
                }
            });
        }
    }
}

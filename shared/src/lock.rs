//! Single-flight work on a named thing (an environment, a secret), across instances.
//!
//! The idempotency ledger stops the *same event* running twice; a task such as provisioning
//! or rotation must also stop two *different* events for the same thing running at once.
//! [`KeyLock`] is a PostgreSQL session-level advisory lock on the control database, held on
//! its own pooled connection.

use sqlx::{pool::PoolConnection, PgPool, Postgres};

/// A held advisory lock on one key. If the holder is cut off before
/// [`KeyLock::release`] (a timeout, a panic), the connection is closed instead of pooled, and
/// the server drops the lock with the session.
pub struct KeyLock {
    conn: Option<PoolConnection<Postgres>>,
    key: String,
}

impl KeyLock {
    /// Takes the lock on `key` (e.g. `groundskeeper.environment:shop`), or `None` if another
    /// session holds it.
    pub async fn try_acquire(pool: &PgPool, key: String) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(&key)
                .fetch_one(&mut *conn)
                .await?;
        Ok(locked.then_some(Self {
            conn: Some(conn),
            key,
        }))
    }

    /// Releases the lock and returns the connection to the pool.
    pub async fn release(mut self) -> Result<(), sqlx::Error> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let unlocked = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(&self.key)
            .execute(&mut *conn)
            .await;
        if unlocked.is_err() {
            drop(conn.detach());
        }
        unlocked.map(drop)
    }
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Not released (cut off mid-way): close the session so the lock goes with it.
            drop(conn.detach());
        }
    }
}

//! The per-secret lock that makes rotations single-flight.

use sqlx::{pool::PoolConnection, PgPool, Postgres};

/// A session-level advisory lock on one secret: one delivery at a time rotates (or cleans
/// up) a secret, whatever its event id. Held on its own pooled connection; if the handler is
/// cut off before [`SecretLock::release`], the connection is closed instead of pooled, and
/// the server drops the lock with it.
pub struct SecretLock {
    conn: Option<PoolConnection<Postgres>>,
    key: String,
}

impl SecretLock {
    /// Takes the lock, or `None` if another session holds it.
    pub async fn try_acquire(pool: &PgPool, secret: &str) -> Result<Option<Self>, sqlx::Error> {
        let key = format!("groundskeeper.rotation:{secret}");
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

impl Drop for SecretLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Not released (cut off mid-way): close the session so the lock goes with it.
            drop(conn.detach());
        }
    }
}

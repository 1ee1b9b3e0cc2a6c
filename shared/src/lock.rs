//! Single-flight work on a named thing (an environment, a secret), across instances.
//!
//! The idempotency ledger stops the *same event* running twice; a task such as provisioning
//! or rotation must also stop two *different* events for the same thing running at once.
//! [`KeyLock`] is a PostgreSQL session-level advisory lock on the control database, held on
//! a connection of its own, outside the pool.
//!
//! Why not a pooled connection: the holder's handler then takes connections from the same
//! pool for its work. With as many deliveries in flight as the pool has connections, every
//! connection is a held lock and every handler waits for a free one: a deadlock that only
//! the pool's acquire timeout breaks, after which all of them retry and meet again. A
//! dedicated session cannot starve the pool, and closing it releases the lock on the server
//! whatever happened to the holder.

use sqlx::{Connection, PgConnection, PgPool};

/// A held advisory lock on one key. If the holder is cut off before [`KeyLock::release`] (a
/// timeout, a panic), dropping it closes the session, and the server drops the lock with it.
pub struct KeyLock {
    conn: PgConnection,
    key: String,
}

impl KeyLock {
    /// Takes the lock on `key` (e.g. `groundskeeper.environment:shop`), or `None` if another
    /// session holds it. Opens one connection to the pool's database for as long as it is
    /// held; the pool's own connections stay free for the holder's work.
    pub async fn try_acquire(pool: &PgPool, key: String) -> Result<Option<Self>, sqlx::Error> {
        let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
        let locked: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                .bind(&key)
                .fetch_one(&mut conn)
                .await?;
        if !locked {
            conn.close().await.ok();
            return Ok(None);
        }
        Ok(Some(Self { conn, key }))
    }

    /// Releases the lock, then ends its session. The explicit unlock matters: the server
    /// ends a closed session (and its locks) only after the client has moved on, so without
    /// it the holder's own next attempt could still find the key taken.
    pub async fn release(mut self) -> Result<(), sqlx::Error> {
        let unlocked = sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(&self.key)
            .execute(&mut self.conn)
            .await;
        // Closing ends the session whatever the unlock did, and with it any lock still held.
        let closed = self.conn.close().await;
        unlocked.map(drop).and(closed)
    }
}

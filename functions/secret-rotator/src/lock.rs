//! The per-secret lock that makes rotations single-flight.

use shared::lock::KeyLock;
use sqlx::PgPool;

/// One delivery at a time rotates (or cleans up) a secret, whatever its event id.
pub async fn lock_secret(pool: &PgPool, secret: &str) -> Result<Option<KeyLock>, sqlx::Error> {
    KeyLock::try_acquire(pool, format!("groundskeeper.rotation:{secret}")).await
}

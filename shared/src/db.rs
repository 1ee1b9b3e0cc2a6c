//! The control database pool.

use secrecy::{ExposeSecret, SecretString};
use sqlx::{postgres::PgPoolOptions, PgPool};

/// A pool that connects on first use, so a service starts without waiting for the database.
pub fn connect_lazy(url: &SecretString) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(8)
        .connect_lazy(url.expose_secret())
}

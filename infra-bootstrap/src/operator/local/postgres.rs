//! The stack's private PostgreSQL cluster under `<state>/postgres` (started by
//! `local-components`) and its control database.
//!
//! Only the superuser gets in without a password (on loopback), as on Cloud SQL; the
//! environments' roles must present their password, so the tour's logins prove something.

use std::path::Path;

use anyhow::Context as _;
use local_components::postgres::Cluster;

/// The control database's name.
pub const CONTROL_DB: &str = "groundskeeper";

/// The cluster of the stack in `dir`.
pub fn cluster(dir: &Path) -> anyhow::Result<Cluster> {
    Ok(Cluster {
        bin: local_components::tools::pg_bin()?,
        dir: dir.join("postgres"),
    })
}

/// Creates the control database (`migrate` then creates the schema in it).
pub async fn create_control_db(admin_url: &str) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {CONTROL_DB}"))
        .execute(&pool)
        .await
        .context("creating the control database")?;
    pool.close().await;
    Ok(())
}

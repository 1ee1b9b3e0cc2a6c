//! The database to back up: `pgbench -i` at the scale that reaches a target size.

use std::path::Path;
use std::process::Command;

use sqlx::{Connection, PgConnection};
use testbed::Postgres;

/// About what one unit of pgbench scale takes on disk (tables and indexes): scale 7 ≈ 100 MB,
/// scale 70 ≈ 1 GB.
const BYTES_PER_SCALE: f64 = 14.3e6;

/// A filled database.
pub struct Filled {
    /// The size asked for, as written (`100MB`).
    pub label: String,
    /// Its name in the cluster.
    pub name: String,
    /// `pg_database_size` after the fill.
    pub bytes: u64,
    /// The pgbench scale used.
    pub scale: u32,
}

/// `100MB`, `1GB`, `1.5GB` (decimal units, as pgbench's sizes are quoted) in bytes.
pub fn parse_size(text: &str) -> u64 {
    let upper = text.trim().to_ascii_uppercase();
    let (number, unit) = if let Some(n) = upper.strip_suffix("GB") {
        (n, 1e9)
    } else if let Some(n) = upper.strip_suffix("MB") {
        (n, 1e6)
    } else {
        panic!("BENCH_SIZES: {text:?} is not a size such as 100MB or 1GB");
    };
    let value: f64 = number
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("BENCH_SIZES: {text:?} is not a size such as 100MB or 1GB"));
    (value * unit) as u64
}

/// Creates a database and fills it with `pgbench -i` (ordinary logged tables, server-side
/// data generation, vacuum, primary keys) up to about `label`'s size.
pub async fn fill(pg: &Postgres, bin_dir: &Path, label: &str) -> Filled {
    let scale = ((parse_size(label) as f64 / BYTES_PER_SCALE).round() as u32).max(1);
    let url = pg.fresh_database().await;
    let name = url.rsplit('/').next().expect("a database URL").to_owned();
    let output = Command::new(bin_dir.join("pgbench"))
        .args(["-i", "-q", "-I", "dtGvp", "-s", &scale.to_string()])
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port().to_string(),
            "-U",
            "postgres",
        ])
        .arg(&name)
        .output()
        .expect("run pgbench");
    assert!(
        output.status.success(),
        "pgbench -i -s {scale} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    // Dirty pages written now, not while the dumps are timed.
    sqlx::query("CHECKPOINT")
        .execute(&mut conn)
        .await
        .expect("checkpoint");
    let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&mut conn)
        .await
        .expect("pg_database_size");
    Filled {
        label: label.to_owned(),
        name,
        bytes: bytes as u64,
        scale,
    }
}

//! A throwaway PostgreSQL 15 cluster: `initdb` + `pg_ctl` in a temp dir on a free port.
//! As root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).

use std::path::Path;

use local_components::postgres::{Cluster, PASSWORDS_HBA, THROWAWAY};
use local_components::tools;

use crate::names::{free_port, unique_name};

/// A running throwaway cluster; stopped (`pg_ctl stop -m immediate`) and deleted on drop.
/// Auth is `trust` on 127.0.0.1 for the superuser `postgres`.
#[derive(Debug)]
pub struct Postgres {
    port: u16,
    cluster: Cluster,
    dir: tempfile::TempDir,
}

impl Postgres {
    /// Creates and starts a cluster. Panics with an install hint when PostgreSQL is missing.
    pub async fn start() -> Self {
        tokio::task::spawn_blocking(Self::start_blocking)
            .await
            .expect("start PostgreSQL")
    }

    fn start_blocking() -> Self {
        let bin = tools::pg_bin().unwrap_or_else(|e| panic!("{e:#}"));
        let dir = tempfile::Builder::new()
            .prefix("testbed-pg-")
            .tempdir()
            .expect("temp dir");
        let cluster = Cluster {
            bin,
            dir: dir.path().to_owned(),
        };
        let log = dir.path().join("server.log");
        cluster.init(&log, None).unwrap_or_else(|e| panic!("{e:#}"));
        // A port picked by free_port can be taken by a parallel test before we bind it.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            match cluster.start(port, &log, THROWAWAY) {
                Ok(_) => return Self { port, cluster, dir },
                Err(e) => last_error = format!("{e:#}"),
            }
        }
        panic!("pg_ctl start failed 5 times; last output:\n{last_error}");
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temp dir holding the cluster (deleted on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The superuser URL of the `postgres` database.
    pub fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// The URL of database `name` as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Makes the cluster check passwords, as Cloud SQL does: only the superuser `postgres`
    /// stays trusted, every other role must log in with its (SCRAM) password.
    pub async fn require_passwords(&self) {
        self.cluster
            .write_hba(PASSWORDS_HBA)
            .expect("write pg_hba.conf");
        let pool = sqlx::PgPool::connect(&self.admin_url())
            .await
            .expect("connect as the superuser");
        sqlx::query("SELECT pg_reload_conf()")
            .execute(&pool)
            .await
            .expect("reload the configuration");
        pool.close().await;
    }

    /// Creates a new, uniquely named, empty database and returns its URL.
    pub async fn fresh_database(&self) -> String {
        let name = unique_name("test").replace('-', "_");
        let output = tokio::process::Command::new(self.cluster.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                &name,
            ])
            .output()
            .await
            .expect("run createdb");
        assert!(
            output.status.success(),
            "createdb {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.url(&name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.cluster.stop("immediate");
    }
}

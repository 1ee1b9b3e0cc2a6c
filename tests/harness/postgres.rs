//! A throwaway PostgreSQL 15 cluster: `initdb` + `pg_ctl` in a temp dir on a free port.
//! As root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::names::{free_port, unique_name};
use crate::process::find_executable;

const INSTALL_HINT: &str =
    "PostgreSQL 15 server binaries (initdb, pg_ctl) not found on PATH or in \
     /usr/lib/postgresql/15/bin; install them with `apt-get install -y postgresql-15`";

/// A running throwaway cluster; stopped (`pg_ctl stop -m immediate`) and deleted on drop.
/// Auth is `trust` on 127.0.0.1 for the superuser `postgres`.
#[derive(Debug)]
pub struct Postgres {
    port: u16,
    bin: PathBuf,
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
        let initdb = find_executable("initdb", &["/usr/lib/postgresql/15/bin/initdb"])
            .unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        // /usr/local/bin/initdb may be a symlink; createdb and pg_ctl sit next to the target.
        let initdb = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        let bin = initdb
            .parent()
            .expect("initdb lives in a directory")
            .to_owned();
        let dir = tempfile::Builder::new()
            .prefix("testbed-pg-")
            .tempdir()
            .expect("temp dir");
        give_to_postgres_user(dir.path());
        let data = dir.path().join("data");
        run(
            as_postgres(&bin.join("initdb")).arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]),
            "initdb",
        );
        // A port picked by free_port can be taken by a parallel test before we bind it.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let options = format!(
                "-p {port} -h 127.0.0.1 -k {} -F -c fsync=off -c full_page_writes=off \
                 -c synchronous_commit=off -c max_connections=200",
                dir.path().display()
            );
            let output = as_postgres(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .output()
                .expect("run pg_ctl start");
            if output.status.success() {
                return Self { port, bin, dir };
            }
            last_error = format!(
                "{}{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
            );
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
        let hba = "local all all trust\n\
                   host all postgres 127.0.0.1/32 trust\n\
                   host all all 127.0.0.1/32 scram-sha-256\n";
        std::fs::write(self.dir().join("data").join("pg_hba.conf"), hba)
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
        let output = tokio::process::Command::new(self.bin.join("createdb"))
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
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// A command for `program`, run as the `postgres` OS user when we are root.
fn as_postgres(program: &Path) -> Command {
    if nix::unistd::geteuid().is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// As root, hands the temp dir to the `postgres` user, who runs the server.
fn give_to_postgres_user(dir: &Path) {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let user = nix::unistd::User::from_name("postgres")
        .expect("look up the postgres user")
        .unwrap_or_else(|| panic!("running as root needs a `postgres` OS user: {INSTALL_HINT}"));
    std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .expect("chown the PostgreSQL temp dir to postgres");
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {what} failed: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

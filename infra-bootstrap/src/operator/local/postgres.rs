//! The stack's private PostgreSQL cluster under `<state>/postgres`: `initdb`, `pg_ctl`, and
//! the control database. As root it runs as the `postgres` OS user (PostgreSQL refuses root).
//!
//! Only the superuser gets in without a password (on loopback), as on Cloud SQL; the
//! environments' roles must present their password, so the tour's logins prove something.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// The control database's name.
pub const CONTROL_DB: &str = "groundskeeper";

const HBA: &str = "local all all trust\n\
                   host all postgres 127.0.0.1/32 trust\n\
                   host all all 127.0.0.1/32 scram-sha-256\n";

/// A cluster directory and the binaries that run it.
pub struct Cluster {
    /// `initdb`'s directory.
    pub bin: PathBuf,
    /// `<state>/postgres`: `data/`, the socket.
    pub dir: PathBuf,
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `initdb`, then `pg_ctl start` on `port` (blocking until it accepts connections);
    /// returns the postmaster's pid, which leads its own session (pg_ctl runs `setsid`).
    pub fn start(&self, port: u16, log: &Path) -> anyhow::Result<u32> {
        std::fs::create_dir_all(&self.dir)?;
        std::fs::File::create(log)?;
        give_to_postgres_user(&[&self.dir, log])?;
        run(
            self.as_postgres("initdb").arg("-D").arg(self.data()).args([
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
        )?;
        std::fs::write(self.data().join("pg_hba.conf"), HBA)?;
        let options = format!(
            "-p {port} -h 127.0.0.1 -k {} -c fsync=off -c max_connections=200",
            self.dir.display()
        );
        run(
            self.as_postgres("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(log)
                .args(["-w", "-t", "60", "-o", &options, "start"]),
            "pg_ctl start",
        )
        .with_context(|| format!("the server log:\n{}", super::process::tail(log, 20)))?;
        let pidfile = std::fs::read_to_string(self.data().join("postmaster.pid"))?;
        pidfile
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .context("postmaster.pid has no pid")
    }

    /// `pg_ctl stop -m fast`; false when it did not stop (the caller kills the group).
    pub fn stop(&self) -> bool {
        self.as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "-t", "20", "stop"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn as_postgres(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if nix::unistd::geteuid().is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

/// Creates the control database (the services migrate it when they start).
pub async fn create_control_db(admin_url: &str) -> anyhow::Result<()> {
    let pool = sqlx::PgPool::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {CONTROL_DB}"))
        .execute(&pool)
        .await
        .context("creating the control database")?;
    pool.close().await;
    Ok(())
}

/// As root, hands the cluster's directory and log to the `postgres` user.
fn give_to_postgres_user(paths: &[&Path]) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let user = nix::unistd::User::from_name("postgres")?.context(
        "running as root needs a `postgres` OS user (it comes with `apt-get install -y postgresql-15`)",
    )?;
    for path in paths {
        std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
            .with_context(|| format!("chown {} to postgres", path.display()))?;
    }
    Ok(())
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = command
        .output()
        .with_context(|| format!("running {what}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{what} failed (the postgres user must be able to reach the state directory): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

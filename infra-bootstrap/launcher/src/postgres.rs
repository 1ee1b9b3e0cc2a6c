//! A private PostgreSQL cluster: `initdb` + `pg_ctl` in a directory of its own, listening on
//! 127.0.0.1. As root the server runs as the `postgres` OS user (PostgreSQL refuses root).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// `pg_hba.conf` as on Cloud SQL: only the superuser gets in without a password (on
/// loopback), every other role must present its SCRAM password.
pub const PASSWORDS_HBA: &str = "local all all trust\n\
                                 host all postgres 127.0.0.1/32 trust\n\
                                 host all all 127.0.0.1/32 scram-sha-256\n";

/// Settings for a cluster whose data may be lost: no fsync, no full-page writes.
pub const THROWAWAY: &[&str] = &["-F", "-c full_page_writes=off", "-c synchronous_commit=off"];

/// A cluster directory (`data/` and the socket) and the binaries that run it.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The directory with `initdb`, `pg_ctl`, `createdb` (see [`crate::tools::pg_bin`]).
    pub bin: PathBuf,
    /// The cluster's directory: `data/` and the Unix socket.
    pub dir: PathBuf,
}

impl Cluster {
    /// `<dir>/data`.
    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `initdb` (superuser `postgres`, trust, UTF8, C locale); as root, first hands `dir`
    /// and `log` to the `postgres` user. `hba` replaces `pg_hba.conf` when given.
    pub fn init(&self, log: &Path, hba: Option<&str>) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        std::fs::File::create(log)?;
        give_to_postgres_user(&[&self.dir, log])?;
        let mut initdb = self.as_postgres("initdb");
        initdb.arg("-D").arg(self.data()).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(&mut initdb, "initdb")?;
        if let Some(hba) = hba {
            self.write_hba(hba)?;
        }
        Ok(())
    }

    /// Replaces `pg_hba.conf` (a running server reads it on `SELECT pg_reload_conf()`).
    pub fn write_hba(&self, hba: &str) -> anyhow::Result<()> {
        std::fs::write(self.data().join("pg_hba.conf"), hba).context("writing pg_hba.conf")
    }

    /// `pg_ctl start` on 127.0.0.1:`port`, blocking until it accepts connections, with
    /// `settings` (e.g. [`THROWAWAY`]) besides fsync off; returns the postmaster's pid, which
    /// leads its own session (pg_ctl runs `setsid`).
    pub fn start(&self, port: u16, log: &Path, settings: &[&str]) -> anyhow::Result<u32> {
        let options = format!(
            "-p {port} -h 127.0.0.1 -k {} -c fsync=off -c max_connections=200 {}",
            self.dir.display(),
            settings.join(" ")
        );
        let mut pg_ctl = self.as_postgres("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(log)
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        run(&mut pg_ctl, "pg_ctl start")
            .with_context(|| format!("the server log:\n{}", crate::process::tail(log, 20)))?;
        let pidfile = std::fs::read_to_string(self.data().join("postmaster.pid"))?;
        pidfile
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .context("postmaster.pid has no pid")
    }

    /// `pg_ctl stop -m MODE` (`fast`, `immediate`); false when it did not stop.
    pub fn stop(&self, mode: &str) -> bool {
        self.as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "-t", "20", "stop"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// A command for one of the cluster's programs, run as the `postgres` OS user when we
    /// are root.
    pub fn as_postgres(&self, program: &str) -> Command {
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

/// As root, hands `paths` to the `postgres` user, who runs the server.
fn give_to_postgres_user(paths: &[&Path]) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let user = nix::unistd::User::from_name("postgres")?.with_context(|| {
        format!(
            "running as root needs a `postgres` OS user (it comes with `{}`)",
            crate::tools::INSTALL_POSTGRES
        )
    })?;
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
        "{what} failed (the postgres user must be able to reach the cluster's directory): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

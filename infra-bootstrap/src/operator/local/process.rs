//! The stack's processes: each leads its own process group, so that stopping it stops
//! everything it started (the `gcloud` wrapper leaves the emulator's Java child behind when
//! killed alone), and outlives the CLI that started it.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Starts `command` as the leader of a new process group, output appended to `log`, and
/// returns its pid (= its process group id). The child is not waited for: it keeps running
/// after we exit, and `local down` stops it by its group.
pub fn spawn_group(name: &str, mut command: Command, log: &Path) -> anyhow::Result<u32> {
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {name} ({:?})", command.get_program()))?;
    Ok(child.id())
}

/// Stops process group `pgid`: SIGTERM, then SIGKILL after `grace`. True once it is gone.
pub fn stop_group(pgid: u32, grace: Duration) -> bool {
    let Ok(raw) = i32::try_from(pgid) else {
        return true;
    };
    let pid = Pid::from_raw(raw);
    if killpg(pid, Signal::SIGTERM).is_err() {
        return !group_is_alive(pgid);
    }
    if wait_gone(pgid, grace) {
        return true;
    }
    let _ = killpg(pid, Signal::SIGKILL);
    wait_gone(pgid, Duration::from_secs(5))
}

/// Waits up to `timeout` for group `pgid` to be gone; true when it is.
pub fn wait_gone(pgid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while group_is_alive(pgid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Whether a live (non-zombie) thread of any process is in group `pgid`. Our children are
/// reparented when the CLI exits and their new parent may never reap them, so a zombie
/// counts as gone — but only once all its threads are (a killed JVM's main thread is a
/// zombie while the others still hold its sockets).
pub fn group_is_alive(pgid: u32) -> bool {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return false;
    };
    processes.flatten().any(|process| {
        let Ok(threads) = std::fs::read_dir(process.path().join("task")) else {
            return false;
        };
        threads.flatten().any(|thread| {
            let stat = std::fs::read_to_string(thread.path().join("stat")).unwrap_or_default();
            // After `(comm) `: state, ppid, pgrp, ...
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|p| p.parse::<u32>().ok());
            pgrp == Some(pgid) && !matches!(state, Some("Z" | "X"))
        })
    })
}

/// `preferred` when nothing listens there (and `any` is false), else a port the kernel
/// picks. Another program may take it before we bind it; then that component fails to
/// start and says so.
pub fn pick_port(preferred: u16, any: bool) -> anyhow::Result<u16> {
    let bind = |port: u16| TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)));
    if !any && bind(preferred).is_ok() {
        return Ok(preferred);
    }
    Ok(bind(0).context("finding a free port")?.local_addr()?.port())
}

/// Whether something accepts TCP connections at `addr` (`HOST:PORT`) within a moment.
pub async fn answers(addr: &str) -> bool {
    let connect = tokio::net::TcpStream::connect(addr);
    matches!(
        tokio::time::timeout(Duration::from_millis(500), connect).await,
        Ok(Ok(_))
    )
}

/// Polls `ready` until it holds; fails when group `pgid` dies first or `timeout` passes,
/// with the end of `log`.
pub async fn wait_ready<F, Fut>(
    name: &str,
    pgid: u32,
    log: &Path,
    timeout: Duration,
    mut ready: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if ready().await {
            return Ok(());
        }
        let why = if !group_is_alive(pgid) {
            "exited before it was ready"
        } else if Instant::now() > deadline {
            "did not answer in time"
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        anyhow::bail!(
            "{name} {why}; the end of {}:\n{}",
            log.display(),
            tail(log, 30)
        );
    }
}

/// The last `n` lines of a log file.
pub fn tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

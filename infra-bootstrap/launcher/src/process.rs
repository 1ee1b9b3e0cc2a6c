//! Commands that lead their own process group, so that stopping one stops everything it
//! started, and the group's liveness read from `/proc`.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How a component's log is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// Start it empty (a throwaway instance).
    Truncate,
    /// Keep what earlier runs wrote (the local stack's `logs/`).
    Append,
}

/// Starts `command` as the leader of a new process group, stdout and stderr written to
/// `log`. The returned child is not killed when dropped: the caller decides whether the
/// group outlives it (the local stack) or is stopped with it (the test harness).
pub fn spawn_group(
    name: &str,
    mut command: Command,
    log: &Path,
    mode: Log,
) -> anyhow::Result<Child> {
    let mut options = File::options();
    match mode {
        Log::Truncate => options.write(true).create(true).truncate(true),
        Log::Append => options.create(true).append(true),
    };
    let out = options
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {name} ({:?})", command.get_program()))
}

/// The process group id of a child started by [`spawn_group`] (its pid).
pub fn pgid(child: &Child) -> u32 {
    child.id()
}

/// Stops process group `pgid`: SIGTERM, then SIGKILL after `grace`. True once it is gone.
pub fn stop_group(pgid: u32, grace: Duration) -> bool {
    let Some(pid) = as_pid(pgid) else {
        return true;
    };
    if killpg(pid, Signal::SIGTERM).is_err() {
        return !group_is_alive(pgid);
    }
    if wait_gone(pgid, grace) {
        return true;
    }
    kill_group(pgid);
    wait_gone(pgid, Duration::from_secs(5))
}

/// SIGKILL to every process of group `pgid`, for throwaway instances whose state is
/// deleted anyway.
pub fn kill_group(pgid: u32) {
    if let Some(pid) = as_pid(pgid) {
        let _ = killpg(pid, Signal::SIGKILL);
    }
}

fn as_pid(pgid: u32) -> Option<Pid> {
    // 0 and negative ids would signal our own group or every process: never.
    i32::try_from(pgid)
        .ok()
        .filter(|p| *p > 0)
        .map(Pid::from_raw)
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

/// Whether a live (non-zombie) thread of any process is in group `pgid`. Orphans are
/// reparented and their new parent may never reap them, so a zombie counts as gone — but
/// only once all its threads are (a killed JVM's main thread is a zombie while the others
/// still hold its sockets).
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

/// The last `n` lines of a log file.
pub fn tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_the_group_stops_the_grandchildren_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("log");
        let mut command = Command::new("sh");
        // The shell's child ignores SIGTERM: only the group's SIGKILL after the grace ends it.
        command.args([
            "-c",
            "sh -c 'trap \"\" TERM; echo started; sleep 600' & wait",
        ]);
        let mut child = spawn_group("a shell", command, &log, Log::Truncate).expect("spawn");
        let pgid = pgid(&child);
        assert!(group_is_alive(pgid));
        assert!(
            stop_group(pgid, Duration::from_millis(300)),
            "group still alive"
        );
        let _ = child.wait();
        assert!(!group_is_alive(pgid));
    }
}

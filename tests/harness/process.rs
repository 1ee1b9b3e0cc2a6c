//! Child processes in their own process group, so stopping one stops everything it started
//! (the `gcloud` wrapper leaves the emulator's Java process behind when killed alone).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// A running command that leads its own process group; dropping it kills the whole group.
#[derive(Debug)]
pub struct ProcessGroup {
    child: Child,
    hint: &'static str,
    name: String,
    log: PathBuf,
}

impl ProcessGroup {
    /// Starts `command` as the leader of a new process group, with stdout and stderr
    /// written to `log` (shown, with `hint`, when it fails to start).
    pub fn spawn(name: &str, mut command: Command, log: &Path, hint: &'static str) -> Self {
        use std::os::unix::process::CommandExt;
        let out = File::create(log).expect("create the component's log file");
        let err = out.try_clone().expect("clone the log file handle");
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name} ({command:?}) failed: {e}\n{hint}"));
        Self {
            child,
            hint,
            name: name.to_owned(),
            log: log.to_owned(),
        }
    }

    /// The process group id (the leader's pid).
    pub fn pgid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("pids fit in i32")
    }

    /// Polls `ready` every 100 ms until it returns true; panics with the log when the
    /// process exits first or `timeout` passes.
    pub async fn wait_until<F, Fut>(&mut self, timeout: Duration, mut ready: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if ready().await {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited with {status} before it was ready:\n{}\n{}",
                    self.name,
                    self.log_tail(),
                    self.hint
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "{} not ready after {timeout:?}:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines the process wrote.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SIGKILL: every component here keeps its state in a temp dir we delete anyway.
        let _ = killpg(Pid::from_raw(self.pgid()), Signal::SIGKILL);
        let _ = self.child.wait();
        // So that the port is free (and nothing is running) once drop returns.
        wait_group_gone(self.pgid());
    }
}

/// Whether any live (non-zombie) process is still in process group `pgid`. Orphans are
/// reparented to PID 1, which may not reap them, so a zombie counts as gone — but only once
/// all its threads are: a killed JVM's main thread turns zombie while the others still hold
/// its sockets open.
pub fn group_is_alive(pgid: i32) -> bool {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return false;
    };
    processes.flatten().any(|process| {
        let Ok(threads) = std::fs::read_dir(process.path().join("task")) else {
            return false;
        };
        threads.flatten().any(|thread| {
            let stat = std::fs::read_to_string(thread.path().join("stat")).unwrap_or_default();
            // The fields after `(comm)` are: state, ppid, pgrp, ...
            let Some((_, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
            pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
        })
    })
}

/// The path of executable `name`: from `$PATH`, else the first of `fallbacks` that exists.
pub(crate) fn find_executable(name: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|candidate| candidate.is_file())
}

/// Waits (up to 10 s) for `pgid` to be gone; true when it is.
pub fn wait_group_gone(pgid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while group_is_alive(pgid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

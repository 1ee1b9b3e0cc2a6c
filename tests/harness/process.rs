//! Child processes in their own process group (started by `local-components`, the launcher
//! the local stack uses too), stopped with their whole group when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use local_components::process::{self as launcher, Log};

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
    pub fn spawn(name: &str, command: Command, log: &Path, hint: &'static str) -> Self {
        let child = launcher::spawn_group(name, command, log, Log::Truncate)
            .unwrap_or_else(|e| panic!("{e:#}\n{hint}"));
        Self::adopt(name, child, log, hint)
    }

    /// Takes over a group the launcher started (and already waited for).
    pub(crate) fn adopt(name: &str, child: Child, log: &Path, hint: &'static str) -> Self {
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
    pub async fn wait_until<F, Fut>(&mut self, timeout: Duration, ready: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let pgid = launcher::pgid(&self.child);
        let waited =
            local_components::ready::wait_ready(&self.name, pgid, &self.log, timeout, ready).await;
        if let Err(e) = waited {
            panic!("{e:#}\n{}", self.hint);
        }
    }

    /// The last lines the process wrote.
    pub fn log_tail(&self) -> String {
        launcher::tail(&self.log, 40)
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SIGKILL: every component here keeps its state in a temp dir we delete anyway.
        launcher::kill_group(launcher::pgid(&self.child));
        let _ = self.child.wait();
        // So that the port is free (and nothing is running) once drop returns.
        wait_group_gone(self.pgid());
    }
}

/// Waits (up to 10 s) for `pgid` to be gone; true when it is.
pub fn wait_group_gone(pgid: i32) -> bool {
    u32::try_from(pgid).is_ok_and(|pgid| launcher::wait_gone(pgid, Duration::from_secs(10)))
}

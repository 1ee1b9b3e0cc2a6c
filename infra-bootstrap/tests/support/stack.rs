//! A real local stack (`groundskeeper local up --free-ports`) in a temp state directory of the
//! test's own; dropping it runs `local down`, then kills whatever is still alive.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use infra_bootstrap::operator::local::group_is_alive;
use infra_bootstrap::operator::stack::StackState;

pub struct Stack {
    _root: tempfile::TempDir,
    pub dir: PathBuf,
    pub state: StackState,
    /// Every process group the stack started (emulator, PostgreSQL, services, scheduler).
    pub pgids: Vec<u32>,
    /// The `groundskeeper` it runs (the services are the binaries next to it).
    exe: PathBuf,
}

impl Stack {
    /// Builds the services, starts the stack and reads its state file.
    pub fn up() -> Self {
        Self::up_with(&[], &[])
    }

    /// [`Stack::up`] with more arguments for `local up` and variables in the CLI's own
    /// environment.
    pub fn up_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        super::build::build_services();
        Self::up_from(Path::new(env!("CARGO_BIN_EXE_groundskeeper")), args, env)
    }

    /// [`Stack::up_with`] run by the `groundskeeper` at `exe`, with the service binaries
    /// next to it (already built).
    pub fn up_from(exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let root = tempfile::tempdir().unwrap();
        // PostgreSQL runs as the `postgres` user when we are root: it must reach the state dir.
        std::fs::set_permissions(
            root.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let dir = root.path().join("state");
        let mut command = command_in(
            exe,
            &dir,
            &[&["local", "up", "--free-ports"], args].concat(),
        );
        command.envs(env.iter().copied());
        let up = command.output().expect("run groundskeeper");
        assert!(up.status.success(), "local up: {}", text(&up.stderr));
        let state = StackState::read(&dir.join("stack.json"))
            .unwrap()
            .expect("a state file");
        let pgids = state
            .processes
            .values()
            .copied()
            .chain(state.services.values().filter_map(|s| s.pid))
            .collect();
        Self {
            _root: root,
            dir,
            state,
            pgids,
            exe: exe.to_owned(),
        }
    }

    /// Runs `groundskeeper ARGS` against this stack.
    pub fn cli(&self, args: &[&str]) -> Output {
        command_in(&self.exe, &self.dir, args)
            .output()
            .expect("run groundskeeper")
    }

    /// Re-reads the state file after `local start` gave a component a new process group.
    pub fn refresh(&mut self) {
        self.state = StackState::read(&self.dir.join("stack.json"))
            .unwrap()
            .expect("a state file");
        let now = self
            .state
            .processes
            .values()
            .copied()
            .chain(self.state.services.values().filter_map(|s| s.pid));
        for pgid in now.collect::<Vec<_>>() {
            if !self.pgids.contains(&pgid) {
                self.pgids.push(pgid);
            }
        }
    }

    /// Runs `groundskeeper ARGS`, which must succeed; returns its trimmed stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "groundskeeper {args:?}: {}",
            text(&out.stderr)
        );
        text(&out.stdout).trim().to_owned()
    }

    /// `local down`, then every process group must be gone.
    pub fn down_and_check(&mut self) {
        self.ok(&["local", "down"]);
        assert!(!self.dir.exists(), "the state directory is removed");
        for pgid in std::mem::take(&mut self.pgids) {
            assert!(!group_is_alive(pgid), "process group {pgid} is gone");
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.dir.exists() {
            if std::thread::panicking() {
                keep_logs(&self.dir);
            }
            let _ = self.cli(&["local", "down"]);
        }
        // Only groups still alive: a stopped one's id may belong to someone else by now.
        for pgid in self.pgids.iter().filter(|p| group_is_alive(**p)) {
            local_components::process::kill_group(*pgid);
        }
    }
}

/// A failed test's stack goes down with its temporary directory: its services' logs are
/// copied out first, and where to is printed.
fn keep_logs(dir: &Path) {
    let kept =
        std::env::temp_dir().join(format!("groundskeeper-failed-stack-{}", std::process::id()));
    let logs = dir.join("logs");
    let copied = std::fs::create_dir_all(&kept).is_ok()
        && std::fs::read_dir(&logs).is_ok_and(|entries| {
            entries
                .flatten()
                .all(|e| std::fs::copy(e.path(), kept.join(e.file_name())).is_ok())
        });
    if copied {
        eprintln!("the stack's logs are kept in {}", kept.display());
    }
}

/// Runs `groundskeeper ARGS` with the stack in `dir`.
pub fn cli_in(dir: &Path, args: &[&str]) -> Output {
    let exe = Path::new(env!("CARGO_BIN_EXE_groundskeeper"));
    command_in(exe, dir, args)
        .output()
        .expect("run groundskeeper")
}

fn command_in(exe: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(exe);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GROUNDSKEEPER_STATE_DIR", dir);
    command
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

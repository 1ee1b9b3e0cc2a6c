//! Kill -9 at crash points, over and over: a service runs with every point still to fire
//! armed in `GROUNDSKEEPER_CRASH_AT`; when one fires the process SIGKILLs itself, and this
//! starts a new instance (`groundskeeper local start`, as Cloud Run starts one) armed with
//! the points left, until none is left and a clean instance runs.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use infra_bootstrap::operator::local::group_is_alive;
use infra_bootstrap::operator::stack::StackState;
use shared::crash_point::CRASH_AT_VARIABLE;

/// What every instance of `service` in the fault stack is started with: a 5 s delivery
/// timeout and a 6 s idempotency lease (defaults 50 and 80), so that a killed instance's
/// claims expire within a few redeliveries: each redelivery refused meanwhile ("in flight
/// elsewhere") is one more push failure the emulator answers by slowing down. The lease still
/// outlasts the timeout, as the runtime requires, and every delivery here takes well under it.
pub fn stack_sets(service: &str) -> Vec<String> {
    vec![
        format!("{service}:DELIVERY_TIMEOUT_SECS=5"),
        format!("{service}:IDEMPOTENCY_LEASE_SECS=6"),
    ]
}

/// `(subject, point)`.
pub type Point = (String, String);

/// What a crash run did.
#[derive(Debug, Default)]
pub struct Kills {
    /// The points that fired, each by a SIGKILL of the service.
    pub fired: Vec<Point>,
    /// The points that never fired before the deadline.
    pub missed: Vec<Point>,
}

/// Starts a new instance of `service` with `points` armed. Call it before publishing what
/// should reach them: an event handled by the old instance never reaches a point.
pub fn arm(exe: &Path, dir: &Path, service: &str, points: &[Point]) {
    restart(exe, dir, service, points);
}

/// Drives one service, [armed](arm) with `points`, through them; blocks (run it on a
/// blocking thread) until every point has fired or `deadline`, and leaves a clean instance
/// running.
pub fn run(exe: &Path, dir: &Path, service: &str, points: Vec<Point>, deadline: Instant) -> Kills {
    let log = dir.join("logs").join(format!("{service}.log"));
    let mut kills = Kills::default();
    let mut left = points;
    while !left.is_empty() && Instant::now() < deadline {
        let pgid = pgid(dir, service);
        while group_is_alive(pgid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if group_is_alive(pgid) {
            break;
        }
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let (fired, rest): (Vec<Point>, Vec<Point>) = left
            .into_iter()
            .partition(|(s, p)| text.contains(&line(s, p)));
        assert!(
            !fired.is_empty(),
            "{service} died without reaching an armed point; see {}",
            log.display()
        );
        kills.fired.extend(fired);
        left = rest;
        restart(exe, dir, service, &left);
    }
    kills.missed = left;
    if !kills.missed.is_empty() {
        restart(exe, dir, service, &[]);
    }
    kills
}

/// The line `shared::crash_point` writes before the SIGKILL.
fn line(subject: &str, point: &str) -> String {
    format!("crash point {point} for {subject}: SIGKILL")
}

fn pgid(dir: &Path, service: &str) -> u32 {
    let state = StackState::read(&dir.join("stack.json")).unwrap().unwrap();
    state.services[service].pid.unwrap()
}

/// Stops `service` if it runs and starts it with `points` armed (none: a clean instance).
fn restart(exe: &Path, dir: &Path, service: &str, points: &[Point]) {
    if group_is_alive(pgid(dir, service)) {
        groundskeeper(exe, dir, &["local", "stop", service]);
    }
    let armed: Vec<String> = points.iter().map(|(s, p)| format!("{s}@{p}")).collect();
    let set = format!("{service}:{CRASH_AT_VARIABLE}={}", armed.join(","));
    let mut sets = stack_sets(service);
    if !points.is_empty() {
        sets.push(set);
    }
    start(exe, dir, service, &sets);
}

/// `local start SERVICE` with `sets`.
pub fn start(exe: &Path, dir: &Path, service: &str, sets: &[String]) {
    let mut args = vec!["local", "start", service];
    for set in sets {
        args.extend(["--set", set]);
    }
    groundskeeper(exe, dir, &args);
}

/// `local start` / `stop` rewrite the state file: one at a time within the suite.
static STATE_FILE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `groundskeeper ARGS` on the stack in `dir`, which must succeed.
pub fn groundskeeper(exe: &Path, dir: &Path, args: &[&str]) {
    let _one = STATE_FILE.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(exe)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GROUNDSKEEPER_STATE_DIR", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "groundskeeper {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The binary next to which the fault services are.
pub fn exe_in(bin_dir: &Path) -> PathBuf {
    bin_dir.join("groundskeeper")
}

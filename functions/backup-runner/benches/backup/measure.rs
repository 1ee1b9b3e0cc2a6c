//! Timed runs: plain `pg_dump -Fc` (the reference) and the worker child processes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::worker::Destination;

/// One timed run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Wall-clock seconds from spawn to exit.
    pub secs: f64,
    /// The archive's size (0 when it went to /dev/null).
    pub archive_bytes: u64,
    /// The worker's own peak RSS (`ru_maxrss` of itself, pg_dump excluded).
    pub peak_rss_kib: Option<u64>,
    /// pg_dump's peak RSS inside the worker (its waited child).
    pub pg_dump_rss_kib: Option<u64>,
}

/// `pg_dump -Fc > /dev/null` of `database`: what a backup can at best cost. Through stdout,
/// because pg_dump 15 fsyncs a `-f` file and /dev/null cannot be fsynced.
pub fn pg_dump(pg_dump: &Path, port: u16, database: &str) -> Run {
    let null = std::fs::File::create("/dev/null").expect("open /dev/null");
    let started = Instant::now();
    let status = Command::new(pg_dump)
        .args(["-Fc", "-h", "127.0.0.1", "-U", "postgres"])
        .args(["-p", &port.to_string(), database])
        .stdout(null)
        .status()
        .expect("run pg_dump");
    let secs = started.elapsed().as_secs_f64();
    assert!(status.success(), "pg_dump failed: {status}");
    Run {
        secs,
        archive_bytes: 0,
        peak_rss_kib: None,
        pg_dump_rss_kib: None,
    }
}

/// Re-executes this benchmark as `--worker MODE DESTINATION… ARGS…` and times it, fork and
/// exec included. A failed worker is a result too (its panic message): the table shows it
/// instead of losing the other tools' figures.
pub fn worker(mode: &str, destination: &Destination, args: &[String]) -> Result<Run, String> {
    let program = std::env::current_exe().expect("this benchmark's path");
    let started = Instant::now();
    let output = Command::new(program)
        .args(["--worker", mode])
        .args(destination.args())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the worker");
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        eprintln!("worker {args:?} failed ({}):\n{stderr}", output.status);
        // The line after "panicked at FILE:LINE:" is the panic message.
        let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at"));
        let place = lines.next().unwrap_or_default();
        let message = lines.next().unwrap_or_default();
        return Err(format!("{}: {message} ({place})", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().expect("the worker's report line");
    let report: serde_json::Value = serde_json::from_str(line).expect("a JSON report line");
    let kib = |field: &str| report[field].as_u64();
    Ok(Run {
        secs,
        archive_bytes: kib("size").expect("size"),
        peak_rss_kib: kib("peak_rss_kib"),
        pg_dump_rss_kib: kib("pg_dump_peak_rss_kib"),
    })
}

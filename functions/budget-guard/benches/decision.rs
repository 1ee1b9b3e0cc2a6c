//! budget-guard's own share of a notification's latency (issue 13: "dominated by the API
//! calls, not by us"): notifications through the runtime's dispatcher (ledger included) on a
//! real control database, against Cloud Run / Cloud SQL fakes that answer at once, so what is
//! timed is decoding, deciding, the journal and the events. Three kinds, `BENCH_N` each
//! (default 300): below every level (the common case: several a day), a repeat of a level
//! already reached, and a crossing that caps 10 services and a database (each in a new period
//! of its own budget... of the same budget, so each also restores the previous period's 11).
//! Run: `make bench-budget`; figures in BENCHMARKS.md.
#![allow(clippy::unwrap_used)]

#[path = "../tests/stack/mod.rs"]
mod stack;

use std::time::{Duration, Instant};

use stack::fleet::labels;
use stack::Stack;

#[allow(clippy::disallowed_methods)] // a bench setting, read once here
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(kind: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{kind:<40} n={:<5} p50={:>8.2?} p99={:>8.2?} max={:>8.2?}",
        times.len(),
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let n = setting("BENCH_N", 300);
    let stack = Stack::start(&[]).await;
    for i in 0..10 {
        let dev = labels(&[("managed-by", "groundskeeper"), ("tier", "dev")]);
        stack.run.add(&format!("env-{i}"), 1, 10, dev);
    }
    stack.ready_environment("bench-1", "dev").await;

    let mut below = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        stack
            .notify(&format!("below-{i}"), "2026-01-01", 10.0)
            .await;
        below.push(start.elapsed());
    }
    report("below every level (observe only)", below);

    stack.notify("cap", "2026-01-01", 85.0).await;
    let mut repeat = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        stack
            .notify(&format!("repeat-{i}"), "2026-01-01", 86.0)
            .await;
        repeat.push(start.elapsed());
    }
    report("level already reached", repeat);

    let mut crossing = Vec::with_capacity(n / 10);
    for i in 0..(n / 10).max(2) {
        // Each crossing is in the next period: it restores the previous period's 11
        // resources, then caps them again.
        let period =
            chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap() + chrono::Days::new(i as u64);
        let start = Instant::now();
        stack
            .notify(&format!("cross-{i}"), &period.to_string(), 85.0)
            .await;
        crossing.push(start.elapsed());
    }
    report("new period: restore 11, cap 11", crossing);
}

//! The flood (issue 14, section 3): 10 000 push deliveries across the four services (three
//! replicas each, real PostgreSQL) at each concurrency of
//! `FLOOD_CONCURRENCY`, to find the highest rate the stack takes; prints throughput, latency
//! quantiles and every effect against its unique events. Exits non-zero when an effect does
//! not match (or a delivery was never acked). The mix and why: `flood/mix.rs`.
//!
//! Settings (environment): `FLOOD_DELIVERIES` (default 10 000), `FLOOD_CONCURRENCY`
//! (comma-separated, default `8,32,128`; each level on fresh services). Run: `make flood`;
//! figures in BENCHMARKS.md.
#![allow(clippy::unwrap_used)]

#[path = "flood/mod.rs"]
mod flood;
#[path = "../tests/stack/mod.rs"]
mod stack;

use std::process::ExitCode;

use flood::mix::Target;

#[allow(clippy::disallowed_methods)] // bench settings, read once here
fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let deliveries: usize = setting("FLOOD_DELIVERIES", "10000")
        .parse()
        .expect("FLOOD_DELIVERIES is a whole number");
    let levels: Vec<usize> = setting("FLOOD_CONCURRENCY", "8,32,128")
        .split(',')
        .map(|c| c.trim().parse().expect("FLOOD_CONCURRENCY: whole numbers"))
        .collect();
    let mut ok = true;
    println!(
        "{:>11} {:>10} {:>9} {:>8} {:>12} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "concurrency",
        "deliveries",
        "re-pushes",
        "wall s",
        "deliveries/s",
        "p50",
        "p99",
        "max",
        "p99 env",
        "p99 budget",
        "p99 rotate",
        "p99 backup",
        "effects"
    );
    for concurrency in levels {
        let run = flood::run(deliveries, concurrency).await;
        let f = &run.fired;
        let matches = run.effects_match() && f.unsettled == 0;
        ok &= matches;
        let p99 = Target::ALL.map(|t| format!("{:.1?}", f.quantile(Some(t), 0.99)));
        println!(
            "{concurrency:>11} {:>10} {:>9} {:>8.1} {:>12.0} {:>9.1?} {:>9.1?} {:>9.1?} {:>10} {:>10} {:>10} {:>10} {:>8}",
            f.deliveries,
            f.repushes(),
            f.wall.as_secs_f64(),
            f.throughput(),
            f.quantile(None, 0.5),
            f.quantile(None, 0.99),
            f.quantile(None, 1.0),
            p99[0],
            p99[1],
            p99[2],
            p99[3],
            if matches { "= unique" } else { "MISMATCH" },
        );
        println!("            answers by status: {:?}", f.statuses);
        for check in &run.checks {
            let mark = if check.holds() { "ok" } else { "MISMATCH" };
            println!(
                "            {mark:<8} {:<32} {} (unique events: {})",
                check.what, check.actual, check.expected
            );
        }
        if f.unsettled > 0 {
            println!(
                "            MISMATCH {} deliveries never acked",
                f.unsettled
            );
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

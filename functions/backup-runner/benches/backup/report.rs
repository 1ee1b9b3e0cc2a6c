//! The table: medians per size and tool, against pg_dump of the same round set, and the
//! issue's targets judged from the run's own figures.

use crate::fill::Filled;
use crate::measure::Run;

/// Issue 12: a backup at least this fraction of plain pg_dump's throughput ...
pub const THROUGHPUT_RATIO: f64 = 0.9;
/// ... and a runner whose peak RSS stays within this, at every size.
pub const PEAK_RSS_MIB: f64 = 64.0;

/// The tools measured for one size, in the order they run in each round.
pub struct Measured<'a> {
    pub database: &'a Filled,
    /// (tool name, its runs or why they failed); the first is the pg_dump reference.
    pub tools: Vec<(&'static str, Vec<Result<Run, String>>)>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Prints the table and one PASS/MISS line per target; true when every target is met.
pub fn print(all: &[Measured]) -> bool {
    println!(
        "\n| size | db MB (scale) | tool | runs | seconds median (min–max) | MB/s | ratio vs pg_dump | peak RSS MiB (max) | pg_dump RSS MiB | archive MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for measured in all {
        let db = measured.database;
        let db_mb = db.bytes as f64 / 1e6;
        let reference = median(
            measured.tools[0]
                .1
                .iter()
                .flatten()
                .map(|r| r.secs)
                .collect(),
        );
        for (tool, results) in &measured.tools {
            let runs: Vec<&Run> = results.iter().flatten().collect();
            if let Some(Err(reason)) = results.iter().find(|r| r.is_err()) {
                let failed = results.len() - runs.len();
                println!("| {} | {db_mb:.0} ({}) | {tool} | {failed} of {} FAILED: {reason} | | | | | | |", db.label, db.scale, results.len());
                verdicts.push((
                    format!("{} {tool}: runs without failure", db.label),
                    false,
                    format!("{failed} of {} failed", results.len()),
                ));
                if runs.is_empty() {
                    continue;
                }
            }
            let secs: Vec<f64> = runs.iter().map(|r| r.secs).collect();
            let (min, max) = secs
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), s| (lo.min(*s), hi.max(*s)));
            let med = median(secs);
            let ratio = reference / med;
            let rss = runs.iter().filter_map(|r| r.peak_rss_kib).max().map(mib);
            let dump_rss = runs.iter().filter_map(|r| r.pg_dump_rss_kib).max().map(mib);
            let archive = runs.iter().map(|r| r.archive_bytes).max().unwrap_or(0) as f64 / 1e6;
            let show = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.1}"));
            println!(
                "| {} | {db_mb:.0} ({}) | {tool} | {} | {med:.2} ({min:.2}–{max:.2}) | {:.1} | {ratio:.2} | {} | {} | {} |",
                db.label,
                db.scale,
                runs.len(),
                db_mb / med,
                show(rss),
                show(dump_rss),
                if archive > 0.0 { format!("{archive:.1}") } else { "–".into() },
            );
            if tool.starts_with("backup") {
                let rss = rss.unwrap_or(f64::MAX);
                verdicts.push((
                    format!(
                        "{} {tool}: throughput ≥ {THROUGHPUT_RATIO} × pg_dump",
                        db.label
                    ),
                    ratio >= THROUGHPUT_RATIO,
                    format!("{ratio:.2}"),
                ));
                verdicts.push((
                    format!("{} {tool}: peak RSS ≤ {PEAK_RSS_MIB} MiB", db.label),
                    rss <= PEAK_RSS_MIB,
                    format!("{rss:.1} MiB"),
                ));
            }
        }
    }
    println!();
    for (target, met, figure) in &verdicts {
        println!("{} {target}: {figure}", if *met { "PASS" } else { "MISS" });
    }
    verdicts.iter().all(|(_, met, _)| *met)
}

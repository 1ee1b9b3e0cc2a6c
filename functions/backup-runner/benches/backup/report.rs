//! The table: medians per size and tool against pg_dump of the same rounds, and the issue's
//! targets judged from the run's own figures.

use crate::fill::Filled;
use crate::measure::Run;

/// Issue 12: a backup at least this fraction of plain pg_dump's throughput ...
pub const THROUGHPUT_RATIO: f64 = 0.9;
/// ... and a runner whose peak RSS stays within this, at every size.
pub const PEAK_RSS_MIB: f64 = 64.0;

/// What a row is, which decides how it is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Plain pg_dump: the reference of its size.
    Reference,
    /// A backup through `BackupJob::run`: judged against the targets.
    Backup,
    /// One part of a backup alone (to explain the others): its MB/s are the database's.
    Part,
    /// The archive alone into a store: its MB/s are the archive's.
    Upload,
}

/// One tool's runs at one size.
pub struct Tool {
    pub name: &'static str,
    pub kind: Kind,
    /// Its runs, or why they failed.
    pub runs: Vec<Result<Run, String>>,
}

/// The tools measured for one database; the first is the reference.
pub struct Measured<'a> {
    pub database: &'a Filled,
    pub tools: Vec<Tool>,
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

fn show(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |v| format!("{v:.1}"))
}

/// Prints the table, then one PASS/MISS line per target.
pub fn print(all: &[Measured]) {
    println!("\n| size | db MB (scale) | tool | runs | seconds median (min–max) | MB/s | ratio vs pg_dump | peak RSS MiB | pg_dump RSS MiB | archive MB |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut verdicts = Vec::new();
    for measured in all {
        let db = measured.database;
        let db_mb = db.bytes as f64 / 1e6;
        let secs_of =
            |tool: &Tool| -> Vec<f64> { tool.runs.iter().flatten().map(|r| r.secs).collect() };
        let reference = median(secs_of(&measured.tools[0]));
        for tool in &measured.tools {
            let name = tool.name;
            let head = format!("| {} | {db_mb:.0} ({}) | {name} |", db.label, db.scale);
            let runs: Vec<&Run> = tool.runs.iter().flatten().collect();
            let failed = tool.runs.len() - runs.len();
            if let Some(Err(reason)) = tool.runs.iter().find(|r| r.is_err()) {
                println!(
                    "{head} {failed} of {} FAILED: {reason} | | | | | | |",
                    tool.runs.len()
                );
                if tool.kind == Kind::Backup {
                    verdicts.push((
                        format!("{} {name}: every run succeeds", db.label),
                        false,
                        format!("{failed} failed"),
                    ));
                }
                if runs.is_empty() {
                    continue;
                }
            }
            let secs = secs_of(tool);
            let min = secs.iter().copied().fold(f64::MAX, f64::min);
            let max = secs.iter().copied().fold(0.0, f64::max);
            let med = median(secs);
            let archive_mb = runs.iter().map(|r| r.archive_bytes).max().unwrap_or(0) as f64 / 1e6;
            let (rate, ratio) = match tool.kind {
                Kind::Upload => (Some(archive_mb / med), None),
                _ => (Some(db_mb / med), Some(reference / med)),
            };
            let rss = runs.iter().filter_map(|r| r.peak_rss_kib).max().map(mib);
            let dump_rss = runs.iter().filter_map(|r| r.pg_dump_rss_kib).max().map(mib);
            println!(
                "{head} {} | {med:.2} ({min:.2}–{max:.2}) | {} | {} | {} | {} | {} |",
                runs.len(),
                show(rate),
                ratio.map_or("–".into(), |r| format!("{r:.2}")),
                show(rss),
                show(dump_rss),
                show((archive_mb > 0.0).then_some(archive_mb)),
            );
            if tool.kind == Kind::Backup {
                let ratio = ratio.unwrap_or(0.0);
                let rss = rss.unwrap_or(f64::MAX);
                verdicts.push((
                    format!(
                        "{} {name}: throughput ≥ {THROUGHPUT_RATIO} × pg_dump",
                        db.label
                    ),
                    ratio >= THROUGHPUT_RATIO,
                    format!("{ratio:.3}"),
                ));
                verdicts.push((
                    format!("{} {name}: peak RSS ≤ {PEAK_RSS_MIB} MiB", db.label),
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
}

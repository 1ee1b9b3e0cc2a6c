//! backup-runner's throughput and memory (issue 12's acceptance): `pgbench -i` databases of
//! each size in `BENCH_SIZES` (default `100MB,1GB`), each dumped in alternating rounds by
//! (A) plain `pg_dump -Fc -f /dev/null`, (B) a backup through `BackupJob::run` into a
//! `file://` store, (C) the same into fake-gcs-server; and, to explain them, (D) the
//! snapshot with its exact row counts alone, (E) the dump core without a store (snapshot,
//! counts, pg_dump piped and hashed into a sink) and (F) a raw upload of B's archive into
//! fake-gcs-server (the store's own cost, without the runner). B to F run in a child process
//! (this benchmark re-executed with `--worker …`) that reports its own peak RSS.
//! Method and figures: BENCHMARKS.md. Run: `make bench-backup`.
//!
//! Settings (environment): `BENCH_SIZES` (comma-separated, e.g. `100MB,1GB`),
//! `BENCH_ROUNDS` (rounds per size, default 2, at least 2).

#[path = "backup/fill.rs"]
mod fill;
#[path = "backup/measure.rs"]
mod measure;
#[path = "backup/report.rs"]
mod report;
#[path = "backup/worker.rs"]
mod worker;

use std::process::ExitCode;

use backup_runner::dump::{discover_pg_dumps, select_pg_dump};
use measure::Run;
use report::Kind;
use testbed::{FakeGcs, Postgres};
use worker::Destination;

#[allow(clippy::disallowed_methods)] // bench settings, read once here
fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--worker") {
        worker::main(&args[1..]);
        return ExitCode::SUCCESS;
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("backup benchmark: run it with `make bench-backup`");
        return ExitCode::SUCCESS;
    }
    let sizes = setting("BENCH_SIZES", "100MB,1GB");
    let rounds: usize = setting("BENCH_ROUNDS", "2")
        .parse::<usize>()
        .expect("BENCH_ROUNDS is a whole number")
        .max(2);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pg = runtime.block_on(Postgres::start());
    let gcs = runtime.block_on(FakeGcs::start());
    let pg_dump = runtime.block_on(async {
        let mut conn = sqlx::Connection::connect(&pg.admin_url())
            .await
            .expect("connect");
        let version: String = sqlx::query_scalar("SHOW server_version_num")
            .fetch_one(&mut conn as &mut sqlx::PgConnection)
            .await
            .expect("server_version_num");
        let installed = discover_pg_dumps(None).await;
        select_pg_dump(&installed, version.parse().expect("a version number")).expect("a pg_dump")
    });
    let bin_dir = pg_dump.path.parent().expect("pg_dump's directory");
    println!("pg_dump: {} ({})", pg_dump.path.display(), pg_dump.version);

    let filled: Vec<_> = sizes
        .split(',')
        .map(|label| {
            let db = runtime.block_on(fill::fill(&pg, bin_dir, label.trim()));
            println!(
                "{}: pgbench scale {}, pg_database_size {} bytes",
                db.label, db.scale, db.bytes
            );
            db
        })
        .collect();
    let mut bucket = 0;
    let mut fresh_bucket = || {
        bucket += 1;
        let name = format!("bench-{bucket}");
        runtime.block_on(gcs.create_bucket(&name));
        Destination {
            url: format!("gs://{name}"),
            endpoint: Some(gcs.endpoint()),
        }
    };
    let mut results = Vec::new();
    for db in &filled {
        let database = [pg.port().to_string(), db.name.clone()];
        let mut runs: [Vec<Result<Run, String>>; 6] = Default::default();
        for round in 1..=rounds {
            runs[0].push(Ok(measure::pg_dump(&pg_dump.path, pg.port(), &db.name)));
            // A fresh directory and bucket per run: create-only writes refuse an earlier dump.
            let dir = tempfile::tempdir().expect("store directory");
            let file = Destination {
                url: format!("file://{}", dir.path().display()),
                endpoint: None,
            };
            runs[1].push(measure::worker("backup", &file, &database));
            runs[2].push(measure::worker("backup", &fresh_bucket(), &database));
            runs[3].push(measure::worker("snapshot", &file, &database));
            runs[4].push(measure::worker("dump", &file, &database));
            let archive = [find_dump(dir.path())];
            runs[5].push(measure::worker("upload", &fresh_bucket(), &archive));
            let secs: Vec<_> = runs
                .iter()
                .map(|r| r.last().and_then(|r| r.as_ref().ok()).map(|r| r.secs))
                .collect();
            println!("{} round {round}/{rounds}: seconds {secs:?}", db.label);
        }
        let [a, b, c, d, e, f] = runs;
        let tool = |name, kind, runs| report::Tool { name, kind, runs };
        results.push(report::Measured {
            database: db,
            tools: vec![
                tool("pg_dump -Fc > /dev/null", Kind::Reference, a),
                tool("backup → file://", Kind::Backup, b),
                tool("backup → fake-gcs-server", Kind::Backup, c),
                tool("snapshot + exact row counts alone", Kind::Part, d),
                tool("dump core alone, into a sink", Kind::Part, e),
                tool(
                    "raw upload of the archive → fake-gcs-server",
                    Kind::Upload,
                    f,
                ),
            ],
        });
    }
    report::print(&results);
    // A miss is reported, not a failure: the figures are the output.
    ExitCode::SUCCESS
}

/// The archive the file:// backup wrote under `root` (the one `.dump` file).
fn find_dump(root: &std::path::Path) -> String {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).expect("read the store") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "dump") {
                return path.display().to_string();
            }
        }
    }
    panic!("no .dump under {}", root.display());
}

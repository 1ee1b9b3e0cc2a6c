//! The runtime benchmark (issue 2): cold start, RSS, decode+dispatch throughput and latency
//! of `example-service`, with and without the PostgreSQL ledger, against a Node.js
//! functions-framework peer doing the same decode and validation — all in one run, so the
//! ratios compare like with like. Method and figures: BENCHMARKS.md. Run: `make bench`.
//!
//! Settings (environment): `BENCH_STARTS` (cold starts per server, default 15),
//! `BENCH_WARMUP_SECS` (2), `BENCH_SECS` (10), `BENCH_CONNECTIONS` (32), and
//! `BENCH_SERVICE_ENV` (extra `K=V` pairs, space-separated, for example-service — for
//! experiments such as `MALLOC_ARENA_MAX=1`).

#[path = "runtime/body.rs"]
mod body;
#[path = "runtime/load.rs"]
mod load;
#[path = "runtime/peer.rs"]
mod peer;
#[path = "runtime/pin.rs"]
mod pin;
#[path = "runtime/report.rs"]
mod report;
#[path = "runtime/subject.rs"]
mod subject;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use load::Shape;
use report::{ColdStarts, Run, Throughput};
use subject::Subject;

const SERVICE: &str = env!("CARGO_BIN_EXE_example-service");

struct Settings {
    starts: usize,
    shape: Shape,
    service_env: Vec<(String, String)>,
}

impl Settings {
    #[allow(clippy::disallowed_methods)] // bench harness settings, read once here
    fn from_env() -> Self {
        let number = |name: &str, default: u64| -> u64 {
            std::env::var(name).ok().map_or(default, |v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number"))
            })
        };
        let service_env = std::env::var("BENCH_SERVICE_ENV").unwrap_or_default();
        Self {
            starts: number("BENCH_STARTS", 15).max(10) as usize,
            shape: Shape {
                connections: number("BENCH_CONNECTIONS", 32) as usize,
                warmup: Duration::from_secs(number("BENCH_WARMUP_SECS", 2)),
                measure: Duration::from_secs(number("BENCH_SECS", 10).max(1)),
            },
            service_env: service_env
                .split_whitespace()
                .map(|pair| {
                    let (k, v) = pair
                        .split_once('=')
                        .expect("BENCH_SERVICE_ENV holds K=V pairs");
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
        }
    }
}

fn main() -> ExitCode {
    // `cargo test --benches` runs this without `--bench`: a benchmark is not a test.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "runtime benchmark: run it with `make bench` (cargo bench -p shared --bench runtime)"
        );
        return ExitCode::SUCCESS;
    }
    body::check();
    let settings = Settings::from_env();
    let service_bin = PathBuf::from(SERVICE);
    let target_dir = service_bin
        .parent()
        .and_then(|profile| profile.parent())
        .expect("example-service lives in <target>/<profile>/");
    let peer = peer::prepare(target_dir);
    header(&settings, &peer);

    let ours = service(&settings, "warn", None);
    let mut ours_cold = ColdStarts::new("example-service");
    let mut peer_cold = ColdStarts::new(&peer.name);
    // Alternating starts spread any background noise evenly over both.
    for _ in 0..settings.starts {
        for (subject, starts) in [(&ours, &mut ours_cold), (&peer, &mut peer_cold)] {
            let running = subject.start();
            starts.times.push(running.cold_start);
            starts.rss_kib.push(running.rss_ready_kib);
            starts.rss_anon_kib.push(running.rss_anon_ready_kib);
        }
    }
    ours_cold.print();
    peer_cold.print();

    let ours_load = throughput(&ours, settings.shape, "warn");
    let ours_info = throughput(&service(&settings, "info", None), settings.shape, "info");
    let peer_load = throughput(&peer, settings.shape, "peer");
    let ledger = ledger_throughput(&settings);

    let run = Run {
        ours_cold,
        peer_cold,
        ours: ours_load,
        ours_info,
        peer: peer_load,
        ledger,
    };
    let missed = run.summarise();
    // Misses are findings, not a failed command: the figures above are the output.
    println!("{missed} target(s) missed");
    ExitCode::SUCCESS
}

fn header(settings: &Settings, peer: &Subject) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "?".into());
    println!(
        "runtime benchmark: {cpu}, {} CPU(s)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if pin::available() {
        println!(
            "server pinned to core {}, client (load generator, cold-start poller) to core {}",
            pin::SERVICE_CORE,
            pin::CLIENT_CORE
        );
    } else {
        println!(
            "WARNING: fewer than 2 CPUs — nothing pinned; the figures do not follow the method"
        );
    }
    println!(
        "cold starts: {} per server; load: {} keep-alive connections, {:?} warm-up, {:?} measured",
        settings.starts, settings.shape.connections, settings.shape.warmup, settings.shape.measure
    );
    println!("peer: {} on node {}", peer.name, peer::node_version(peer));
    if !settings.service_env.is_empty() {
        println!(
            "example-service extra environment: {:?}",
            settings.service_env
        );
    }
    println!();
}

/// example-service with log level `rust_log`, and the ledger when `database_url` is set.
fn service(settings: &Settings, rust_log: &str, database_url: Option<&str>) -> Subject {
    let mut env: Vec<(String, String)> = [
        ("LISTEN_ADDRESS", "127.0.0.1"),
        // Nothing is published on the happy path; a publish would fail fast here.
        ("PUBSUB_EMULATOR_HOST", "127.0.0.1:9"),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", rust_log),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    if let Some(url) = database_url {
        env.push(("DATABASE_URL".into(), url.to_owned()));
    }
    env.extend(settings.service_env.iter().cloned());
    let mut name = format!("example-service RUST_LOG={rust_log}");
    if database_url.is_some() {
        name.push_str(" +ledger");
    }
    Subject {
        name,
        program: PathBuf::from(SERVICE),
        args: vec![],
        env,
        cwd: None,
        port_args: vec![],
        body: std::sync::Arc::new(body::ping),
        health_path: None,
    }
}

fn throughput(subject: &Subject, shape: Shape, run: &str) -> Throughput {
    let running = subject.start();
    let cpu_before = running.cpu_time();
    let load = load::drive(running.addr, shape, run, &subject.body);
    let cpu = running.cpu_time().saturating_sub(cpu_before);
    let result = Throughput {
        name: subject.name.clone(),
        rss_ready_kib: running.rss_ready_kib,
        rss_after_kib: running.rss_kib(),
        cpu_per_request: cpu / u32::try_from(load.answered.max(1)).unwrap_or(u32::MAX),
        warmup: shape.warmup,
        load,
    };
    result.print();
    result
}

/// The same load with the idempotency ledger on: every delivery carries a distinct id, so
/// each is a real claim and completion in PostgreSQL (which shares the machine's two cores,
/// unpinned). Checks afterwards that the ledger recorded every answered delivery.
fn ledger_throughput(settings: &Settings) -> Throughput {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let postgres = runtime.block_on(testbed::Postgres::start());
    let url = runtime.block_on(postgres.fresh_database());
    let result = throughput(
        &service(settings, "warn", Some(&url)),
        settings.shape,
        "ledger",
    );
    let done: i64 = runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&url)
            .await
            .expect("connect to the ledger database");
        sqlx::query_scalar("SELECT count(*) FROM control.deliveries WHERE status = 'done'")
            .fetch_one(&pool)
            .await
            .expect("count completed deliveries")
    });
    println!(
        "ledger          {} deliveries recorded done (≥ {} answered in the window)",
        done, result.load.ok
    );
    assert!(
        done as u64 >= result.load.ok,
        "the ledger recorded fewer deliveries than were answered"
    );
    result
}

//! Every deployed service, as it is deployed (issue 11, section 6): cold start and RSS of each
//! built service of the registry (`events::platform`) with its control database set and
//! migrated once beforehand (as the deploy's `migrate` job does), side by side with the Node
//! functions-framework peer in the same run. Method and figures: BENCHMARKS.md. Run:
//! `make bench-services` (builds the release binaries first).
//!
//! Settings (environment): `BENCH_STARTS` (cold starts per server, default 12),
//! `BENCH_LOAD_SECS` (the probe load before "RSS after load", default 3).

#[path = "runtime/body.rs"]
#[allow(dead_code)] // shared with the runtime benchmark, which uses all of it
mod body;
#[path = "runtime/load.rs"]
mod load;
#[path = "runtime/peer.rs"]
mod peer;
#[path = "runtime/pin.rs"]
#[allow(dead_code)]
mod pin;
#[path = "runtime/report.rs"]
#[allow(dead_code)]
mod report;
#[path = "runtime/subject.rs"]
#[allow(dead_code)]
mod subject;

use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use base64::Engine as _;
use events::platform::{self, ServiceSpec};
use report::{mib, ms, ColdStarts};
use subject::{BodyFn, Subject};

/// The targets: a cold start at least this many times faster than the peer's ...
const COLD_START_RATIO: f64 = 20.0;
/// ... and an RSS when ready at most 1/this of the peer's.
const RSS_RATIO: f64 = 8.0;

#[allow(clippy::disallowed_methods)] // bench settings, read once here
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number"))
    })
}

fn main() -> ExitCode {
    if !std::env::args().any(|a| a == "--bench") {
        println!("services benchmark: run it with `make bench-services`");
        return ExitCode::SUCCESS;
    }
    let starts = setting("BENCH_STARTS", 12).max(5) as usize;
    let load_secs = setting("BENCH_LOAD_SECS", 3).max(1);
    let release = std::env::current_exe()
        .expect("this benchmark's path")
        .parent()
        .and_then(|deps| deps.parent())
        .expect("<target>/release/deps/")
        .to_path_buf();
    let peer = peer::prepare(release.parent().expect("<target>/release"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let postgres = runtime.block_on(testbed::Postgres::start());
    let control_url = runtime.block_on(postgres.fresh_database());
    let admin_url = postgres.admin_url();
    let objects = tempfile::tempdir().expect("object store directory");

    let services: Vec<Subject> = platform::built()
        .map(|spec| {
            let program = release.join(spec.name);
            assert!(
                program.is_file(),
                "{} is not built; run `make bench-services` (or `cargo build --release -p {}`)",
                program.display(),
                spec.name
            );
            migrate(&program, &control_url);
            deployed(spec, program, &control_url, &admin_url, objects.path())
        })
        .collect();
    println!(
        "services benchmark: {} starts per server, RUST_LOG=info, control database set and migrated; peer: {} on node {}\n",
        starts,
        peer.name,
        peer::node_version(&peer)
    );

    let mut cold: Vec<ColdStarts> = services.iter().map(|s| ColdStarts::new(&s.name)).collect();
    let mut listening: Vec<Vec<Duration>> = vec![vec![]; services.len()];
    let mut peer_cold = ColdStarts::new(&peer.name);
    // Alternating starts spread background noise evenly over every server.
    for _ in 0..starts {
        for (i, service) in services.iter().enumerate() {
            let running = service.start();
            listening[i].push(running.listening);
            cold[i].times.push(running.cold_start);
            cold[i].rss_kib.push(running.rss_ready_kib);
            cold[i].rss_anon_kib.push(running.rss_anon_ready_kib);
        }
        let running = peer.start();
        peer_cold.times.push(running.cold_start);
        peer_cold.rss_kib.push(running.rss_ready_kib);
        peer_cold.rss_anon_kib.push(running.rss_anon_ready_kib);
    }
    // One connection: a service's probes all name the same resource (the same never-created
    // environment), and concurrent deliveries for one resource wait on its lock (5xx, retried
    // by Pub/Sub) by design.
    let shape = load::Shape {
        connections: 1,
        warmup: Duration::from_millis(500),
        measure: Duration::from_secs(load_secs),
    };
    let after = |subject: &Subject| {
        let running = subject.start();
        let load = load::drive(running.addr, shape, "load", &subject.body);
        assert_eq!(load.errors, 0, "{}: a probe delivery failed", subject.name);
        (running.rss_kib(), load.per_second())
    };
    let (peer_after, _) = after(&peer);

    println!("| service | first answer (GET /healthz) median / p90 | first delivery done (probe) median | RSS ready | RSS after load (probes/s) | peer first answer | peer RSS ready / after | cold start × | RSS × |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut missed = 0;
    for (i, service) in services.iter().enumerate() {
        let (rss_after, per_second) = after(service);
        let first_answer = median(&listening[i]);
        let cold_ratio = peer_cold.median().as_secs_f64() / first_answer.as_secs_f64();
        let rss_ratio = peer_cold.rss_median_kib() as f64 / cold[i].rss_median_kib() as f64;
        missed += usize::from(cold_ratio < COLD_START_RATIO) + usize::from(rss_ratio < RSS_RATIO);
        println!(
            "| {} | {} / {} ms | {} ms | {} MiB | {} MiB ({per_second:.0}/s) | {} ms | {} / {} MiB | {cold_ratio:.1}× | {rss_ratio:.1}× |",
            service.name,
            ms(first_answer),
            ms(quantile(&listening[i], 0.9)),
            ms(cold[i].median()),
            mib(cold[i].rss_median_kib()),
            mib(rss_after),
            ms(peer_cold.median()),
            mib(peer_cold.rss_median_kib()),
            mib(peer_after),
        );
    }
    println!(
        "\ntargets: cold start ≥ {COLD_START_RATIO}× faster, RSS ready ≤ 1/{RSS_RATIO} of the peer's, for every service: {}",
        if missed == 0 { "PASS".to_owned() } else { format!("{missed} MISS") }
    );
    ExitCode::SUCCESS
}

/// Runs `SERVICE migrate` once, as the deploy's Cloud Run job does.
fn migrate(program: &PathBuf, control_url: &str) {
    let status = std::process::Command::new(program)
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", control_url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("run {} migrate: {e}", program.display()));
    assert!(status.success(), "{} migrate: {status}", program.display());
}

/// The service in its deployed configuration: control and managed databases set, JSON logs
/// at `info`, its registry probe as the delivery (an event it acks and that changes nothing).
fn deployed(
    spec: &'static ServiceSpec,
    program: PathBuf,
    control_url: &str,
    admin_url: &str,
    objects: &std::path::Path,
) -> Subject {
    let env = [
        ("LISTEN_ADDRESS", "127.0.0.1"),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "info"),
        ("GOOGLE_CLOUD_PROJECT", "bench"),
        ("K_SERVICE", spec.name),
        // Google's token keys are out of reach here: Cloud Run's own IAM check stands in for
        // the OIDC verification (a deployable setting; the token check is not measured).
        ("PUSH_AUTH", "off-behind-iam"),
        // Nothing is published for a probe; a publish would fail fast here.
        ("PUBSUB_EMULATOR_HOST", "127.0.0.1:9"),
        ("DATABASE_URL", control_url),
        ("MANAGED_DATABASE_URL", admin_url),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .chain([(
        "OBJECT_STORE_URL".to_owned(),
        format!("file://{}", objects.display()),
    )])
    .chain(
        spec.local
            .env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
    .collect();
    Subject {
        name: spec.name.to_owned(),
        program,
        args: vec![],
        env,
        cwd: None,
        port_args: vec![],
        body: probe_body(spec),
        health_path: Some("/healthz"),
    }
}

/// The registry's probe as a wrapped push body, with the `ce-*` attributes doctor adds.
fn probe_body(spec: &'static ServiceSpec) -> BodyFn {
    let data = base64::engine::general_purpose::STANDARD.encode(spec.probe.data_json);
    Arc::new(move |id: &str| {
        let mut attributes: serde_json::Map<String, serde_json::Value> = spec
            .probe
            .attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).into()))
            .collect();
        for (k, v) in [
            ("ce-specversion", "1.0"),
            ("ce-type", spec.probe.event_type),
            ("ce-source", "//bench/services"),
            ("ce-id", id),
        ] {
            attributes.insert(k.to_owned(), v.into());
        }
        serde_json::to_vec(&serde_json::json!({
            "message": {
                "data": data, "attributes": attributes, "messageId": id,
                "publishTime": "2026-11-27T10:00:00.123Z",
            },
            "subscription": format!("projects/bench/subscriptions/{}--bench", spec.name),
        }))
        .expect("a JSON body")
    })
}

fn median(values: &[Duration]) -> Duration {
    quantile(values, 0.5)
}

fn quantile(values: &[Duration], q: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

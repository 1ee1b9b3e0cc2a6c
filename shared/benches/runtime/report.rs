//! Figures, ratios and the targets of issue 2, printed honestly: a target the run did not
//! meet says MISS.

use std::time::Duration;

use crate::load::LoadResult;

/// Cold starts of one server: exec → first 2xx, and RSS at that moment.
pub struct ColdStarts {
    pub name: String,
    pub times: Vec<Duration>,
    pub rss_kib: Vec<u64>,
    pub rss_anon_kib: Vec<u64>,
}

impl ColdStarts {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            times: vec![],
            rss_kib: vec![],
            rss_anon_kib: vec![],
        }
    }

    pub fn median(&self) -> Duration {
        quantile(&self.times, 0.5)
    }

    pub fn p90(&self) -> Duration {
        quantile(&self.times, 0.9)
    }

    pub fn rss_median_kib(&self) -> u64 {
        median(&self.rss_kib)
    }

    pub fn print(&self) {
        println!(
            "cold start      {:<40} median {} ms  p90 {} ms  ({} starts)",
            self.name,
            ms(self.median()),
            ms(self.p90()),
            self.times.len()
        );
        println!(
            "rss ready       {:<40} median {} MiB (anonymous {} MiB, the rest mapped files)",
            self.name,
            mib(self.rss_median_kib()),
            mib(median(&self.rss_anon_kib))
        );
    }
}

/// A throughput run of one server.
pub struct Throughput {
    pub name: String,
    pub rss_ready_kib: u64,
    pub rss_after_kib: u64,
    /// Server CPU time over warm-up and window, per answered request.
    pub cpu_per_request: Duration,
    /// The warm-up before the window (for the load generator's share of its core).
    pub warmup: Duration,
    pub load: LoadResult,
}

impl Throughput {
    pub fn print(&self) {
        let load = &self.load;
        println!(
            "throughput      {:<40} {:.0} req/s  p50 {} ms  p99 {} ms  errors {}  server CPU {:.1} µs/req",
            self.name,
            load.per_second(),
            ms(load.quantile(0.5)),
            ms(load.quantile(0.99)),
            load.errors,
            self.cpu_per_request.as_secs_f64() * 1e6
        );
        let run_time = (load.window + self.warmup).as_secs_f64();
        println!(
            "load generator  {:<40} {:.1} µs/req, busy {:.0}% of its core{}",
            self.name,
            load.client_cpu.as_secs_f64() * 1e6 / load.answered.max(1) as f64,
            100.0 * load.client_cpu.as_secs_f64() / run_time,
            if load.client_cpu.as_secs_f64() / run_time > 0.9 {
                " — the client, not the server, limited req/s"
            } else {
                ""
            }
        );
        println!(
            "rss             {:<40} ready {} MiB  after load {} MiB",
            self.name,
            mib(self.rss_ready_kib),
            mib(self.rss_after_kib)
        );
    }

    fn p99(&self) -> Duration {
        self.load.quantile(0.99)
    }
}

/// Everything one run measured.
pub struct Run {
    pub ours_cold: ColdStarts,
    pub peer_cold: ColdStarts,
    pub ours: Throughput,
    pub ours_info: Throughput,
    pub peer: Throughput,
    pub ledger: Throughput,
}

impl Run {
    /// Prints the summary table and the verdicts; returns how many targets were missed.
    pub fn summarise(&self) -> usize {
        let cold_ratio = secs(self.peer_cold.median()) / secs(self.ours_cold.median());
        let rss_ratio =
            self.peer_cold.rss_median_kib() as f64 / self.ours_cold.rss_median_kib() as f64;
        let rps_ratio = self.ours.load.per_second() / self.peer.load.per_second();
        println!();
        println!(
            "| figure | example-service | {} | ratio |",
            self.peer_cold.name
        );
        println!("|---|---|---|---|");
        row(
            "cold start median (ms)",
            ms(self.ours_cold.median()),
            ms(self.peer_cold.median()),
            cold_ratio,
        );
        println!(
            "| cold start p90 (ms) | {} | {} | |",
            ms(self.ours_cold.p90()),
            ms(self.peer_cold.p90())
        );
        row(
            "RSS ready (MiB)",
            mib(self.ours_cold.rss_median_kib()),
            mib(self.peer_cold.rss_median_kib()),
            rss_ratio,
        );
        println!(
            "| RSS after load (MiB) | {} | {} | |",
            mib(self.ours.rss_after_kib),
            mib(self.peer.rss_after_kib)
        );
        row(
            "req/s, 32 conns",
            format!("{:.0}", self.ours.load.per_second()),
            format!("{:.0}", self.peer.load.per_second()),
            rps_ratio,
        );
        for (what, q) in [("p50", 0.5), ("p99", 0.99)] {
            println!(
                "| {what} latency (ms) | {} | {} | |",
                ms(self.ours.load.quantile(q)),
                ms(self.peer.load.quantile(q))
            );
        }
        println!(
            "| req/s, info log line per delivery | {:.0} (p99 {} ms) | | |",
            self.ours_info.load.per_second(),
            ms(self.ours_info.p99())
        );
        println!(
            "| deliveries/s, ledger on | {:.0} (p50 {} ms, p99 {} ms) | | |",
            self.ledger.load.per_second(),
            ms(self.ledger.load.quantile(0.5)),
            ms(self.ledger.p99())
        );
        println!();
        let no_errors = [&self.ours, &self.ours_info, &self.peer, &self.ledger]
            .iter()
            .all(|t| t.load.errors == 0);
        let verdicts = [
            (
                "cold start ≥ 20× faster than the peer and ≤ 9 ms",
                cold_ratio >= 20.0 && self.ours_cold.median() <= Duration::from_millis(9),
            ),
            (
                "RSS ready ≤ 1/8 of the peer and ≤ 8 MiB",
                rss_ratio >= 8.0 && self.ours_cold.rss_median_kib() <= 8 * 1024,
            ),
            (
                "req/s ≥ 10× the peer with p99 ≤ 2 ms",
                rps_ratio >= 10.0 && self.ours.p99() <= Duration::from_millis(2),
            ),
            (
                "≥ 5k deliveries/s with the ledger on",
                self.ledger.load.per_second() >= 5000.0,
            ),
            ("no failed request in any throughput run", no_errors),
        ];
        for (target, met) in &verdicts {
            println!("{}  {target}", if *met { "PASS" } else { "MISS" });
        }
        verdicts.iter().filter(|(_, met)| !met).count()
    }
}

fn row(figure: &str, ours: String, peer: String, ratio: f64) {
    println!("| {figure} | {ours} | {peer} | {ratio:.1}× |");
}

fn quantile(values: &[Duration], q: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn median(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

pub fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

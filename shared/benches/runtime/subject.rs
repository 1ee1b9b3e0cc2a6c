//! A server under test: how to start it, when it is ready (its first 2xx on `POST /`), and
//! how much memory it holds.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{body, pin};

/// Builds a delivery's push body from its id (distinct ids: distinct deliveries).
pub type BodyFn = std::sync::Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

/// How long a start may take before the benchmark gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause between connection attempts while the server is not listening yet: short, so
/// polling adds at most this much to a cold start.
const POLL_PAUSE: Duration = Duration::from_micros(200);

/// A command line that starts a server listening on the port it is given.
#[derive(Clone)]
pub struct Subject {
    /// Name in the report.
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The whole environment (the benchmark's own is not inherited).
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    /// Arguments that carry the port (`{port}` is replaced); the port also goes in `PORT`.
    pub port_args: Vec<String>,
    /// The delivery it is sent (the first one ends its cold start).
    pub body: BodyFn,
    /// A `GET` path that answers 2xx once it listens (`/healthz`), polled before the first
    /// delivery; `None`: the first delivery is polled directly.
    pub health_path: Option<&'static str>,
}

/// A started server; killed when dropped, so a failed run leaves nothing behind.
pub struct Running {
    child: Child,
    pub addr: SocketAddr,
    /// exec → first 2xx to a delivery.
    pub cold_start: Duration,
    /// exec → first 2xx on the health path (= `cold_start` without one).
    pub listening: Duration,
    /// VmRSS right after the first answer (health path, else delivery), in KiB.
    pub rss_ready_kib: u64,
    /// RssAnon at the same moment, in KiB.
    pub rss_anon_ready_kib: u64,
}

impl Subject {
    /// Starts the server on core 0 and waits, from core 1, for its first 2xx on `POST /`.
    pub fn start(&self) -> Running {
        let port = testbed::free_port();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .args(
                self.port_args
                    .iter()
                    .map(|a| a.replace("{port}", &port.to_string())),
            )
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let request = body::raw_request(&(self.body)(&format!("ready-{port}")));
        let health = self.health_path.map(body::raw_get);
        pin::on_core(pin::SERVICE_CORE, move || {
            let started = Instant::now();
            // spawn returns once the child has exec'd (std reports exec failures through a
            // pipe), so the clock covers fork + exec + the server's own start.
            let child = command
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", self.name));
            pin::pin_current_thread(pin::CLIENT_CORE);
            let mut running = Running {
                child,
                addr,
                cold_start: Duration::ZERO,
                listening: Duration::ZERO,
                rss_ready_kib: 0,
                rss_anon_ready_kib: 0,
            };
            // Ready is the first answer: the health path's when there is one (what Cloud
            // Run's startup probe waits for), else the first delivery's.
            if let Some(health) = &health {
                running.listening = running.first_2xx(health, started, &self.name);
                running.rss_ready_kib = running.rss_kib();
                running.rss_anon_ready_kib = running.rss_anon_kib();
            }
            running.cold_start = running.first_2xx(&request, started, &self.name);
            if health.is_none() {
                running.listening = running.cold_start;
                running.rss_ready_kib = running.rss_kib();
                running.rss_anon_ready_kib = running.rss_anon_kib();
            }
            running
        })
    }
}

impl Running {
    fn first_2xx(&mut self, request: &[u8], started: Instant, name: &str) -> Duration {
        loop {
            if let Some(status) = try_post(self.addr, request) {
                if (200..300).contains(&status) {
                    return started.elapsed();
                }
            }
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("{name} exited before answering: {exit}");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "{name} did not answer 2xx within {START_TIMEOUT:?}"
            );
            std::thread::sleep(POLL_PAUSE);
        }
    }

    /// The server's resident set size now, in KiB (`VmRSS` of /proc/PID/status).
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The anonymous part of the RSS (heap, stacks), in KiB; the rest is mapped files
    /// (the executable's code and data, shared libraries).
    pub fn rss_anon_kib(&self) -> u64 {
        self.status_kib("RssAnon:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"))
    }

    /// CPU time the server has used so far (user + system, all threads), from
    /// /proc/PID/stat — with the request count it gives CPU per request, a figure that
    /// holds up on a busy machine where req/s does not.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read /proc/PID/stat");
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let after_name = &stat[stat.rfind(')').expect("comm in /proc/PID/stat") + 2..];
        let fields: Vec<&str> = after_name.split(' ').collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        // USER_HZ is 100 on every Linux this runs on.
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on a fresh connection; the status, or `None` when there is no server yet.
fn try_post(addr: SocketAddr, request: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_nodelay(true).ok()?;
    stream.set_read_timeout(Some(START_TIMEOUT)).ok()?;
    stream.write_all(request).ok()?;
    let mut response = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    // The status line is all we need; it arrives in the first segment.
    while !response.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        response.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&response);
    line.split(' ').nth(1)?.parse().ok()
}

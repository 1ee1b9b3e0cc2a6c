//! The load generator: N keep-alive HTTP/1.1 connections on loopback, each sending the next
//! delivery as soon as the previous one is answered (closed loop), for a warm-up and then a
//! measured window. It runs on one single-threaded runtime on the client core.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{header, Request};
use hyper_util::rt::TokioIo;

use crate::{pin, subject::BodyFn};

/// How the load is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

/// What the measured window saw.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// 2xx answers completed inside the window.
    pub ok: u64,
    /// Other answers and transport errors inside the window.
    pub errors: u64,
    /// Answers of any kind over warm-up and window together.
    pub answered: u64,
    /// Latency of every request sent inside the window, sorted, in nanoseconds.
    pub latencies_ns: Vec<u64>,
    pub window: Duration,
    /// CPU time the load generator's thread used over warm-up and window.
    pub client_cpu: Duration,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// The `q` quantile (0..=1) of the latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        let Some(last) = self.latencies_ns.len().checked_sub(1) else {
            return Duration::ZERO;
        };
        let index = ((last as f64) * q).round() as usize;
        Duration::from_nanos(self.latencies_ns[index])
    }
}

/// Drives `addr` with `shape`, sending `body`s; message ids start with `run` so each delivery
/// is distinct.
pub fn drive(addr: SocketAddr, shape: Shape, run: &str, body: &BodyFn) -> LoadResult {
    pin::on_core(pin::CLIENT_CORE, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("load generator runtime");
        let cpu_before = thread_cpu_time();
        let mut total = runtime.block_on(async {
            let start = Instant::now() + shape.warmup;
            let end = start + shape.measure;
            let tasks: Vec<_> = (0..shape.connections)
                .map(|c| {
                    let prefix = format!("{run}-{c}");
                    tokio::spawn(connection(addr, prefix, start, end, body.clone()))
                })
                .collect();
            let mut total = LoadResult {
                window: shape.measure,
                ..LoadResult::default()
            };
            for task in tasks {
                let part = task.await.expect("load task");
                total.ok += part.ok;
                total.errors += part.errors;
                total.answered += part.answered;
                total.latencies_ns.extend(part.latencies_ns);
            }
            total.latencies_ns.sort_unstable();
            total
        });
        total.client_cpu = thread_cpu_time().saturating_sub(cpu_before);
        total
    })
}

/// CPU time (user + system) of the calling thread, from /proc/thread-self/stat: the load
/// generator runs wholly on one thread, so this tells whether it, not the server, was the
/// limit.
fn thread_cpu_time() -> Duration {
    let stat =
        std::fs::read_to_string("/proc/thread-self/stat").expect("read /proc/thread-self/stat");
    let after_name = &stat[stat.rfind(')').expect("comm in stat") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(ticks * 10)
}

/// One connection's closed loop; reconnects after a transport error.
async fn connection(
    addr: SocketAddr,
    prefix: String,
    start: Instant,
    end: Instant,
    body: BodyFn,
) -> LoadResult {
    let mut result = LoadResult::default();
    let mut seq = 0u64;
    while Instant::now() < end {
        let Ok(mut sender) = connect(addr).await else {
            result.errors += u64::from(Instant::now() >= start);
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        loop {
            if sender.ready().await.is_err() {
                break; // the connection is gone: open a new one
            }
            let sent = Instant::now();
            if sent >= end {
                break;
            }
            seq += 1;
            let request = Request::post("/")
                .header(header::HOST, "127.0.0.1")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body(&format!("{prefix}-{seq}")))))
                .expect("a valid request");
            let status = match sender.send_request(request).await {
                Ok(response) => {
                    let status = response.status();
                    response.into_body().collect().await.map(|_| status).ok()
                }
                Err(_) => None,
            };
            let done = Instant::now();
            result.answered += u64::from(status.is_some());
            if sent >= start {
                result.latencies_ns.push((done - sent).as_nanos() as u64);
                match status {
                    Some(s) if s.is_success() && done <= end => result.ok += 1,
                    Some(s) if s.is_success() => {}
                    _ => result.errors += 1,
                }
            }
            if status.is_none() {
                break;
            }
        }
    }
    result
}

async fn connect(
    addr: SocketAddr,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, Box<dyn std::error::Error>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

//! Waiting until a started component answers.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::process::{group_is_alive, tail};

/// Polls `ready` every 100 ms until it holds; fails with the end of `log` when group
/// `pgid` dies first or `timeout` passes.
pub async fn wait_ready<F, Fut>(
    name: &str,
    pgid: u32,
    log: &Path,
    timeout: Duration,
    mut ready: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if ready().await {
            return Ok(());
        }
        let why = if !group_is_alive(pgid) {
            "exited before it was ready".to_owned()
        } else if Instant::now() > deadline {
            format!("was not ready after {timeout:?}")
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        anyhow::bail!(
            "{name} {why}; the end of {}:\n{}",
            log.display(),
            tail(log, 40)
        );
    }
}

/// Waits until `url` answers 2xx (the emulator's `/`, a service's `/healthz`).
pub async fn wait_http(
    name: &str,
    pgid: u32,
    url: &str,
    log: &Path,
    timeout: Duration,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    wait_ready(name, pgid, log, timeout, || http_ok(&http, url)).await
}

/// Whether `url` answers 2xx within a couple of seconds.
pub async fn http_ok(http: &reqwest::Client, url: &str) -> bool {
    let request = http.get(url).timeout(Duration::from_secs(2)).send();
    matches!(request.await, Ok(r) if r.status().is_success())
}

/// Whether something accepts TCP connections at `addr` (`HOST:PORT`) within a moment.
pub async fn tcp_answers(addr: &str) -> bool {
    let connect = tokio::net::TcpStream::connect(addr);
    matches!(
        tokio::time::timeout(Duration::from_millis(500), connect).await,
        Ok(Ok(_))
    )
}

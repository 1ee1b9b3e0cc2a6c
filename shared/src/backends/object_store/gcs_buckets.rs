//! Cloud Storage buckets through the JSON API (`buckets.insert`, `buckets.get`,
//! `buckets.delete`). The official crate has these only in `StorageControl`, which speaks
//! gRPC (storage v2); the Cloud Storage emulator (fake-gcs-server) serves only the JSON API.
//! So, as [`super::gcs_json`] does for listing, they go over HTTP here, authenticated with
//! the same `google-cloud-auth` credentials as the official client.

use std::time::Duration;

use async_trait::async_trait;
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use reqwest::{StatusCode, Url};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::OnceCell;

use super::buckets::{
    validate_bucket_name, BucketError, BucketSpec, BucketState, Buckets, Created,
};
use super::gcs_json::GOOGLE_ENDPOINT;
use super::{GcsStore, ObjectStore};

/// Buckets of one project.
#[derive(Debug)]
pub struct GcsBuckets {
    project: String,
    /// The emulator's endpoint, when one is used (anonymous credentials then).
    endpoint: Option<String>,
    base: Url,
    http: reqwest::Client,
    credentials: OnceCell<Credentials>,
}

fn fail(bucket: &str, reason: impl std::fmt::Display, retryable: bool) -> BucketError {
    BucketError {
        bucket: bucket.to_owned(),
        reason: reason.to_string(),
        retryable,
    }
}

/// A reply outside the expected ones: worth a retry when the service is busy or failing,
/// not when it refused the request itself (bad name or location, missing permission).
async fn unexpected(bucket: &str, call: &str, response: reqwest::Response) -> BucketError {
    let status = response.status();
    let retryable = status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT;
    let body = response.text().await.unwrap_or_default();
    fail(bucket, format!("{call}: {status}: {body}"), retryable)
}

impl GcsBuckets {
    /// Buckets of `project`. With `endpoint` (`http://127.0.0.1:4443`) it talks to an
    /// emulator with anonymous credentials; otherwise to Cloud Storage with Application
    /// Default Credentials, made on first use.
    pub fn new(project: &str, endpoint: Option<&str>) -> Result<Self, String> {
        let endpoint = endpoint.map(|e| e.trim_end_matches('/').to_owned());
        let root = endpoint.as_deref().unwrap_or(GOOGLE_ENDPOINT);
        let base = Url::parse(root).map_err(|e| format!("endpoint `{root}`: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self {
            project: project.to_owned(),
            endpoint,
            base,
            http,
            credentials: OnceCell::new(),
        })
    }

    fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["storage", "v1", "b"])
                .extend(segments);
        }
        url
    }

    async fn send(
        &self,
        bucket: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BucketError> {
        let credentials = self
            .credentials
            .get_or_try_init(|| async {
                match &self.endpoint {
                    Some(_) => {
                        Ok(google_cloud_auth::credentials::anonymous::Builder::new().build())
                    }
                    None => google_cloud_auth::credentials::Builder::default()
                        .build()
                        .map_err(|e| {
                            fail(
                                bucket,
                                format!("Application Default Credentials: {e}"),
                                false,
                            )
                        }),
                }
            })
            .await?;
        let headers = match credentials.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => data,
            Ok(CacheableResource::NotModified) => http::HeaderMap::new(),
            Err(e) => return Err(fail(bucket, format!("credentials: {e}"), true)),
        };
        request
            .headers(headers)
            .send()
            .await
            .map_err(|e| fail(bucket, e, true))
    }
}

#[async_trait]
impl Buckets for GcsBuckets {
    async fn create(&self, spec: &BucketSpec) -> Result<Created, BucketError> {
        let name = &spec.name;
        validate_bucket_name(name).map_err(|reason| fail(name, reason, false))?;
        // Uniform bucket-level access: IAM alone decides who reads it, no per-object ACLs.
        let body = json!({
            "name": name,
            "location": spec.location,
            "labels": spec.labels,
            "iamConfiguration": {
                "uniformBucketLevelAccess": { "enabled": true },
                "publicAccessPrevention": "enforced",
            },
        });
        let request = self
            .http
            .post(self.api_url(&[]))
            .query(&[("project", self.project.as_str())])
            .json(&body);
        let response = self.send(name, request).await?;
        match response.status() {
            status if status.is_success() => Ok(Created::New),
            // Ours from an earlier attempt, or anyone's anywhere: the caller looks.
            StatusCode::CONFLICT => Ok(Created::AlreadyExists),
            _ => Err(unexpected(name, "buckets.insert", response).await),
        }
    }

    async fn state(&self, name: &str) -> Result<BucketState, BucketError> {
        validate_bucket_name(name).map_err(|reason| fail(name, reason, false))?;
        let request = self
            .http
            .get(self.api_url(&[name]))
            .query(&[("fields", "name,labels")]);
        let response = self.send(name, request).await?;
        match response.status() {
            status if status.is_success() => {
                let bucket: serde_json::Value = response
                    .json()
                    .await
                    .map_err(|e| fail(name, format!("buckets.get reply: {e}"), true))?;
                let labels = match bucket.get("labels") {
                    Some(labels) => serde_json::from_value(labels.clone())
                        .map_err(|e| fail(name, format!("buckets.get labels: {e}"), false))?,
                    None => Default::default(),
                };
                Ok(BucketState::Present { labels })
            }
            StatusCode::NOT_FOUND => Ok(BucketState::Absent),
            StatusCode::FORBIDDEN => Ok(BucketState::Forbidden),
            _ => Err(unexpected(name, "buckets.get", response).await),
        }
    }

    async fn delete(&self, name: &str) -> Result<(), BucketError> {
        validate_bucket_name(name).map_err(|reason| fail(name, reason, false))?;
        let response = self
            .send(name, self.http.delete(self.api_url(&[name])))
            .await?;
        match response.status() {
            status if status.is_success() || status == StatusCode::NOT_FOUND => Ok(()),
            // Not empty (409 on Cloud Storage, 412 on the emulator): an object written
            // meanwhile; the caller empties it again on its retry.
            StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => {
                let mut error = unexpected(name, "buckets.delete", response).await;
                error.retryable = true;
                Err(error)
            }
            _ => Err(unexpected(name, "buckets.delete", response).await),
        }
    }

    async fn store(&self, name: &str) -> Result<Arc<dyn ObjectStore>, BucketError> {
        let store =
            GcsStore::new(name, "", self.endpoint.as_deref()).map_err(|e| fail(name, e, false))?;
        Ok(Arc::new(store))
    }

    fn url(&self, name: &str) -> String {
        format!("gs://{name}/")
    }
}

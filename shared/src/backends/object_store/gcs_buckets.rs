//! Cloud Storage buckets through the JSON API (`buckets.insert`, `buckets.get`,
//! `buckets.delete`). The official crate has these only in `StorageControl`, which speaks
//! gRPC (storage v2); the Cloud Storage emulator (fake-gcs-server) serves only the JSON API.
//! So, as [`super::gcs_json`] does for listing, they go over HTTP here, authenticated with
//! the same `google-cloud-auth` credentials as the official client.

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::OnceCell;

use super::buckets::{
    validate_bucket_name, BucketError, BucketSpec, BucketState, Buckets, Created,
};
use super::gcs_json::{credentials, JsonApi, GOOGLE_ENDPOINT};
use super::{GcsStore, ObjectStore};

/// Buckets of one project.
#[derive(Debug)]
pub struct GcsBuckets {
    project: String,
    /// The emulator's endpoint, when one is used (anonymous credentials then).
    endpoint: Option<String>,
    /// Built on first use, as the object store's clients are.
    api: OnceCell<JsonApi>,
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
        if let Some(e) = &endpoint {
            Url::parse(e).map_err(|error| format!("endpoint `{e}`: {error}"))?;
        }
        Ok(Self {
            project: project.to_owned(),
            endpoint,
            api: OnceCell::new(),
        })
    }

    async fn api(&self, bucket: &str) -> Result<&JsonApi, BucketError> {
        self.api
            .get_or_try_init(|| async {
                let endpoint = self.endpoint.as_deref();
                JsonApi::new(endpoint.unwrap_or(GOOGLE_ENDPOINT), credentials(endpoint)?)
            })
            .await
            .map_err(|e| fail(bucket, e, false))
    }

    /// Sends the request `build` makes with the client and the `buckets` URL of `segments`.
    async fn send(
        &self,
        bucket: &str,
        segments: &[&str],
        build: impl FnOnce(&reqwest::Client, Url) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BucketError> {
        let api = self.api(bucket).await?;
        api.send(build(api.http(), api.url(segments)))
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
        let response = self
            .send(name, &[], |http, url| {
                http.post(url)
                    .query(&[("project", self.project.as_str())])
                    .json(&body)
            })
            .await?;
        match response.status() {
            status if status.is_success() => Ok(Created::New),
            // Ours from an earlier attempt, or anyone's anywhere: the caller looks.
            StatusCode::CONFLICT => Ok(Created::AlreadyExists),
            _ => Err(unexpected(name, "buckets.insert", response).await),
        }
    }

    async fn state(&self, name: &str) -> Result<BucketState, BucketError> {
        validate_bucket_name(name).map_err(|reason| fail(name, reason, false))?;
        let response = self
            .send(name, &[name], |http, url| {
                http.get(url).query(&[("fields", "name,labels")])
            })
            .await?;
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
            .send(name, &[name], |http, url| http.delete(url))
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

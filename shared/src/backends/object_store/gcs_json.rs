//! Listing and deleting objects through the Cloud Storage JSON API. The official crate
//! offers these only in `StorageControl`, which speaks gRPC (storage v2); the Cloud Storage
//! emulator (fake-gcs-server) serves only the JSON API, so both calls go through it here,
//! authenticated with the same `google-cloud-auth` credentials as the official client.

use std::time::Duration;

use google_cloud_auth::credentials::{CacheableResource, Credentials};
use reqwest::Url;
use serde::Deserialize;

/// The production JSON API root.
pub(crate) const GOOGLE_ENDPOINT: &str = "https://storage.googleapis.com";

/// Anonymous credentials for an emulator (`endpoint` set), Application Default Credentials
/// otherwise: what both the official client and [`JsonApi`] authenticate with.
pub(crate) fn credentials(endpoint: Option<&str>) -> Result<Credentials, String> {
    match endpoint {
        Some(_) => Ok(google_cloud_auth::credentials::anonymous::Builder::new().build()),
        None => google_cloud_auth::credentials::Builder::default()
            .build()
            .map_err(|e| format!("Application Default Credentials: {e}")),
    }
}

/// A minimal JSON API client: `objects.list`, `objects.get` (metadata) and `objects.delete` here, bucket calls in
/// [`super::gcs_buckets`] through [`JsonApi::url`] and [`JsonApi::send`].
#[derive(Debug)]
pub(crate) struct JsonApi {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
}

/// One page of `objects.list`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListPage {
    #[serde(default)]
    pub(crate) items: Vec<Item>,
    pub(crate) next_page_token: Option<String>,
}

/// One listed object (only the fields we use).
#[derive(Debug, Deserialize)]
pub(crate) struct Item {
    pub(crate) name: String,
    /// int64 values arrive as JSON strings in this API.
    #[serde(deserialize_with = "u64_from_string_or_number")]
    pub(crate) size: u64,
}

fn u64_from_string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Text(String),
        Number(u64),
    }
    match Size::deserialize(d)? {
        Size::Number(n) => Ok(n),
        Size::Text(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

impl JsonApi {
    pub(crate) fn new(endpoint: &str, credentials: Credentials) -> Result<Self, String> {
        let base = Url::parse(endpoint).map_err(|e| format!("endpoint `{endpoint}`: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self {
            http,
            base,
            credentials,
        })
    }

    /// The HTTP client requests are built with.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `{endpoint}/storage/v1/b/{segments…}`.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        // push() percent-encodes `/` inside an object name, as the API requires.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["storage", "v1", "b"])
                .extend(segments);
        }
        url
    }

    /// Sends `request` with the credentials' headers.
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, String> {
        let headers = match self.credentials.headers(http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => data,
            Ok(CacheableResource::NotModified) => http::HeaderMap::new(),
            Err(e) => return Err(format!("credentials: {e}")),
        };
        request
            .headers(headers)
            .send()
            .await
            .map_err(|e| e.to_string())
    }

    /// One page of the objects in `bucket` whose names start with `prefix`.
    pub(crate) async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        page_token: Option<&str>,
    ) -> Result<ListPage, String> {
        let mut request = self.http.get(self.url(&[bucket, "o"])).query(&[
            ("prefix", prefix),
            ("fields", "items(name,size),nextPageToken"),
        ]);
        if let Some(token) = page_token {
            request = request.query(&[("pageToken", token)]);
        }
        let response = self.send(request).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "objects.list: {status}: {}",
                response.text().await.unwrap_or_default()
            ));
        }
        response
            .json()
            .await
            .map_err(|e| format!("objects.list reply: {e}"))
    }

    /// The size of `name` in `bucket` (`objects.get` of the metadata only), `None` when
    /// there is no such object.
    pub(crate) async fn size(&self, bucket: &str, name: &str) -> Result<Option<u64>, String> {
        let request = self
            .http
            .get(self.url(&[bucket, "o", name]))
            .query(&[("fields", "name,size")]);
        let response = self.send(request).await?;
        match response.status() {
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => response
                .json::<Item>()
                .await
                .map(|item| Some(item.size))
                .map_err(|e| format!("objects.get reply: {e}")),
            status => Err(format!(
                "objects.get: {status}: {}",
                response.text().await.unwrap_or_default()
            )),
        }
    }

    /// Deletes `name` from `bucket`; a missing object is not an error.
    pub(crate) async fn delete(&self, bucket: &str, name: &str) -> Result<(), String> {
        let response = self
            .send(self.http.delete(self.url(&[bucket, "o", name])))
            .await?;
        match response.status() {
            status if status.is_success() || status == reqwest::StatusCode::NOT_FOUND => Ok(()),
            status => Err(format!(
                "objects.delete: {status}: {}",
                response.text().await.unwrap_or_default()
            )),
        }
    }
}

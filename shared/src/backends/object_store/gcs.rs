//! `gs://bucket/prefix` on the official `google-cloud-storage` client (object data), with
//! listing and deletion through the JSON API ([`super::gcs_json`]).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use google_cloud_gax::retry_policy::RetryPolicyExt;
use google_cloud_storage::client::Storage;
use google_cloud_storage::retry_policy::RetryableErrors;
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

use super::gcs_json::{credentials, JsonApi, GOOGLE_ENDPOINT};
use super::keys::{validate_key, validate_prefix};
use super::{gcs_read, gcs_write, ByteReader, ObjectMeta, ObjectStore, StoreError};

/// How long one call keeps retrying transient failures: the client's own default.
const RETRY_TIME_LIMIT: Duration = Duration::from_secs(300);

/// Objects in a Cloud Storage bucket under an optional prefix.
///
/// Cheap to create: the clients are built on first use (start-up latency matters).
#[derive(Debug)]
pub struct GcsStore {
    bucket: String,
    prefix: String,
    endpoint: Option<String>,
    retry_attempts: Option<u32>,
    clients: OnceCell<Clients>,
}

#[derive(Debug)]
struct Clients {
    storage: Storage,
    json: JsonApi,
}

impl GcsStore {
    /// A store for `bucket`, keys under `prefix` (may be empty). With `endpoint` (e.g.
    /// `http://127.0.0.1:4443`) it talks to an emulator with anonymous credentials.
    pub fn new(bucket: &str, prefix: &str, endpoint: Option<&str>) -> Result<Self, String> {
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if !bucket_ok {
            return Err(format!(
                "`{bucket}` is not a bucket name (3-63 of a-z 0-9 - _ .)"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            validate_key(prefix).map_err(|e| format!("prefix: {e}"))?;
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
            retry_attempts: None,
            clients: OnceCell::new(),
        })
    }

    /// Gives up on a transient failure (connection refused, 503, a download cut short)
    /// after `attempts` tries instead of retrying for up to five minutes, the client's
    /// default. Applies to calls through the official client (reads and writes).
    pub fn with_retry_attempts(mut self, attempts: u32) -> Self {
        self.retry_attempts = Some(attempts);
        self
    }

    fn bucket_path(&self) -> String {
        format!("projects/_/buckets/{}", self.bucket)
    }

    fn object_name(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    /// The client's (bucket, object) for `key`, once `key` is known to be valid.
    fn location(&self, key: &str) -> Result<(String, String), StoreError> {
        validate_key(key)?;
        Ok((self.bucket_path(), self.object_name(key)))
    }

    /// Both clients, built on first use with one set of credentials: anonymous for an
    /// emulator, Application Default Credentials otherwise.
    async fn clients(&self, key: &str) -> Result<&Clients, StoreError> {
        self.clients
            .get_or_try_init(|| async {
                let credentials = credentials(self.endpoint.as_deref())?;
                let mut builder = Storage::builder().with_credentials(credentials.clone());
                if let Some(endpoint) = &self.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(attempts) = self.retry_attempts {
                    builder = builder.with_retry_policy(
                        RetryableErrors
                            .with_time_limit(RETRY_TIME_LIMIT)
                            .with_attempt_limit(attempts),
                    );
                }
                let storage = builder
                    .build()
                    .await
                    .map_err(|e| format!("building the Cloud Storage client: {e}"))?;
                let json = JsonApi::new(
                    self.endpoint.as_deref().unwrap_or(GOOGLE_ENDPOINT),
                    credentials,
                )?;
                Ok::<_, String>(Clients { storage, json })
            })
            .await
            .map_err(|e| fail(key, e))
    }
}

impl GcsStore {
    /// [`gcs_write::upload`] of `key`; `create_only` refuses an existing object.
    async fn upload(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
        create_only: bool,
    ) -> Result<u64, StoreError> {
        let location = self.location(key)?;
        let storage = &self.clients(key).await?.storage;
        gcs_write::upload(storage, location, key, reader, content_type, create_only).await
    }
}

/// A backend failure of this store about `key`.
pub(super) fn fail(key: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        backend: "gcs",
        key: key.to_owned(),
        reason: error.to_string(),
    }
}

#[async_trait]
impl ObjectStore for GcsStore {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        self.clients(key)
            .await?
            .storage
            .write_object(self.bucket_path(), self.object_name(key), bytes.clone())
            .set_content_type(content_type)
            // The checksum up front rather than in a trailing multipart part: cheap for bytes
            // in memory, and the form fake-gcs-server understands.
            .with_known_crc32c(crc32c::crc32c(&bytes))
            .send_unbuffered()
            .await
            .map(|_| ())
            .map_err(|e| fail(key, e))
    }

    async fn put_stream(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
    ) -> Result<u64, StoreError> {
        self.upload(key, reader, content_type, false).await
    }

    async fn put_stream_if_absent(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
    ) -> Result<u64, StoreError> {
        self.upload(key, reader, content_type, true).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let Some(mut reader) = self.get_stream(key).await? else {
            return Ok(None);
        };
        let mut data = Vec::new();
        reader
            .read_to_end(&mut data)
            .await
            .map_err(|e| fail(key, e))?;
        Ok(Some(Bytes::from(data)))
    }

    async fn get_stream(&self, key: &str) -> Result<Option<ByteReader>, StoreError> {
        let location = self.location(key)?;
        gcs_read::open(&self.clients(key).await?.storage, location, key).await
    }

    /// One `objects.get` of the metadata through the JSON API; no data is read.
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let (_, object) = self.location(key)?;
        let json = &self.clients(key).await?.json;
        let size = json
            .size(&self.bucket, &object)
            .await
            .map_err(|e| fail(key, e))?;
        Ok(size.map(|size| ObjectMeta {
            key: key.to_owned(),
            size,
        }))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        validate_prefix(prefix)?;
        let json = &self.clients(prefix).await?.json;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let full_prefix = format!("{strip}{prefix}");
        let mut found = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let page = json
                .list(&self.bucket, &full_prefix, page_token.as_deref())
                .await
                .map_err(|e| fail(prefix, e))?;
            for item in page.items {
                if let Some(key) = item.name.strip_prefix(&strip) {
                    found.push(ObjectMeta {
                        key: key.to_owned(),
                        size: item.size,
                    });
                }
            }
            match page.next_page_token {
                Some(token) if !token.is_empty() => page_token = Some(token),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        let json = &self.clients(key).await?.json;
        json.delete(&self.bucket, &self.object_name(key))
            .await
            .map_err(|e| fail(key, e))
    }
}

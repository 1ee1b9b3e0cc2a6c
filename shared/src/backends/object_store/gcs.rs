//! `gs://bucket/prefix` on the official `google-cloud-storage` client (object data), with
//! listing and deletion through the JSON API ([`super::gcs_json`]).

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use google_cloud_storage::client::Storage;
use google_cloud_storage::streaming_source::StreamingSource;
use tokio::io::AsyncReadExt;
use tokio::sync::{Mutex, OnceCell};

use super::gcs_json::{credentials, JsonApi, GOOGLE_ENDPOINT};
use super::keys::{validate_key, validate_prefix};
use super::{ByteReader, ObjectMeta, ObjectStore, StoreError};

/// Chunk size for streaming uploads: big enough for few round trips, small enough to keep
/// memory flat while a dump of many gigabytes streams through.
const CHUNK: usize = 1024 * 1024;

/// Objects in a Cloud Storage bucket under an optional prefix.
///
/// Cheap to create: the clients are built on first use (start-up latency matters).
#[derive(Debug)]
pub struct GcsStore {
    bucket: String,
    prefix: String,
    endpoint: Option<String>,
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
            clients: OnceCell::new(),
        })
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

    fn fail(key: &str, error: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            backend: "gcs",
            key: key.to_owned(),
            reason: error.to_string(),
        }
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
            .map_err(|e| Self::fail(key, e))
    }
}

impl GcsStore {
    /// Streams `reader` to `key`; `create_only` makes Cloud Storage itself refuse the write
    /// when any live object exists there (precondition `ifGenerationMatch=0`), so the check
    /// cannot race with another replica.
    async fn upload(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
        create_only: bool,
    ) -> Result<u64, StoreError> {
        validate_key(key)?;
        let source = ReaderSource {
            reader: Mutex::new(reader),
        };
        let mut write = self
            .clients(key)
            .await?
            .storage
            .write_object(self.bucket_path(), self.object_name(key), source)
            .set_content_type(content_type);
        if create_only {
            write = write.set_if_generation_match(0);
        }
        let object = write.send_buffered().await.map_err(|e| {
            if create_only && is_precondition_failed(&e) {
                StoreError::AlreadyExists {
                    key: key.to_owned(),
                }
            } else {
                Self::fail(key, e)
            }
        })?;
        u64::try_from(object.size).map_err(|e| Self::fail(key, e))
    }
}

fn is_precondition_failed(error: &google_cloud_storage::Error) -> bool {
    use google_cloud_gax::error::rpc::Code;
    error.http_status_code() == Some(412)
        || error
            .status()
            .is_some_and(|s| s.code == Code::FailedPrecondition)
}

fn is_not_found(error: &google_cloud_storage::Error) -> bool {
    use google_cloud_gax::error::rpc::Code;
    error.http_status_code() == Some(404)
        || error.status().is_some_and(|s| s.code == Code::NotFound)
}

/// Feeds an `AsyncRead` to the client in chunks. The reader sits behind a mutex only
/// because the client wants a `Sync` source; there is never contention.
struct ReaderSource {
    reader: Mutex<ByteReader>,
}

impl StreamingSource for ReaderSource {
    type Error = std::io::Error;

    async fn next(&mut self) -> Option<Result<Bytes, Self::Error>> {
        let mut buffer = BytesMut::zeroed(CHUNK);
        let mut filled = 0;
        let reader = self.reader.get_mut();
        // Fill whole chunks: the resumable protocol sends in 256 KiB multiples.
        while filled < CHUNK {
            match reader.read(&mut buffer[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Some(Err(e)),
            }
        }
        if filled == 0 {
            return None;
        }
        buffer.truncate(filled);
        Some(Ok(buffer.freeze()))
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
            .map_err(|e| Self::fail(key, e))
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
        validate_key(key)?;
        let storage = &self.clients(key).await?.storage;
        let mut response = match storage
            .read_object(self.bucket_path(), self.object_name(key))
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(Self::fail(key, e)),
        };
        let mut data = BytesMut::new();
        while let Some(chunk) = response.next().await {
            data.extend_from_slice(&chunk.map_err(|e| Self::fail(key, e))?);
        }
        Ok(Some(data.freeze()))
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
                .map_err(|e| Self::fail(prefix, e))?;
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
            .map_err(|e| Self::fail(key, e))
    }
}

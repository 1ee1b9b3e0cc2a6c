//! Object storage: `gs://bucket/prefix` on Google Cloud, `file:///path` locally, and a dry
//! run that records writes into a [`Plan`](crate::backends::Plan).
//!
//! Keys are relative, `/`-separated paths (`backups/db/2024-06-01.dump`), validated the same
//! way for every backend so a key that works locally works on Cloud Storage and none can
//! escape a `file://` root. Large uploads stream through [`ObjectStore::put_stream`] from
//! any [`tokio::io::AsyncRead`] (a `pg_dump` pipe, a file) without being held in memory,
//! and large downloads through [`ObjectStore::get_stream`] the same way.

mod buckets;
mod dry_run;
mod dry_run_buckets;
mod file;
mod file_buckets;
mod file_copy;
#[cfg(feature = "gcs")]
mod gcs;
#[cfg(feature = "gcs")]
mod gcs_buckets;
#[cfg(feature = "gcs")]
mod gcs_json;
#[cfg(feature = "gcs")]
mod gcs_read;
#[cfg(feature = "gcs")]
mod gcs_write;
#[cfg(all(test, feature = "gcs"))]
mod gcs_write_tests;
mod keys;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

pub use buckets::{
    buckets_from_url, validate_bucket_name, BucketError, BucketSpec, BucketState, Buckets, Created,
};
pub use dry_run::DryRunStore;
pub use dry_run_buckets::DryRunBuckets;
pub use file::FileStore;
pub use file_buckets::FileBuckets;
#[cfg(feature = "gcs")]
pub use gcs::GcsStore;
#[cfg(feature = "gcs")]
pub use gcs_buckets::GcsBuckets;
pub use keys::validate_key;

/// A byte source: what streaming uploads read from and streaming downloads return.
pub type ByteReader = Box<dyn tokio::io::AsyncRead + Send + Unpin>;

/// One stored object, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The key, relative to the store's root / prefix.
    pub key: String,
    /// The size in bytes.
    pub size: u64,
}

/// Why an object store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL cannot be used.
    #[error("object store URL `{url}`: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key is not a safe relative path.
    #[error("object key `{key}` is invalid: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The backend failed (I/O error, network, permission, ...).
    #[error("{backend} object store, key `{key}`: {reason}")]
    Backend {
        /// `gcs`, `file` or `dry-run`.
        backend: &'static str,
        /// The key (or list prefix) involved.
        key: String,
        /// What the backend said.
        reason: String,
    },
    /// A create-only write found an object already under the key; nothing was written.
    #[error("object `{key}` already exists; it is never overwritten")]
    AlreadyExists {
        /// The key as given.
        key: String,
    },
}

impl StoreError {
    /// Whether a retry may succeed: a backend failure may be passing; a bad URL or key is not,
    /// and neither is a create-only write that found an object (the retry would find it too).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Backend { .. })
    }
}

/// A flat key → bytes store.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Writes `bytes` under `key`, replacing any object there. Readers see the old or the
    /// new object, never a part.
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), StoreError>;

    /// Streams everything `reader` yields to `key` and returns the number of bytes written.
    /// The object appears only once the stream ended without error.
    async fn put_stream(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
    ) -> Result<u64, StoreError>;

    /// Like [`put_stream`](Self::put_stream), but only creates: when an object already
    /// exists under `key` it fails with [`StoreError::AlreadyExists`] and leaves that object
    /// as it was. The check and the write are one atomic step in the backend, so two
    /// replicas racing on the same key cannot both succeed.
    async fn put_stream_if_absent(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
    ) -> Result<u64, StoreError>;

    /// The object under `key`, or `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError>;

    /// The object under `key` as a reader, or `None` when there is none. Memory stays
    /// bounded whatever the object's size. A failure after the reader is returned (the
    /// connection drops, the file is unreadable) is an error from the reader, never an
    /// early end of data.
    async fn get_stream(&self, key: &str) -> Result<Option<ByteReader>, StoreError>;

    /// The size of the object under `key` without reading it, or `None` when there is none.
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError>;

    /// The objects whose keys start with `prefix` (a plain string prefix, `""` for all),
    /// sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError>;

    /// Deletes the object under `key`; deleting a missing object succeeds.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// The store for `url`: `gs://bucket[/prefix]` ([`GcsStore`]; `gcs_endpoint` such as
/// `http://127.0.0.1:4443`, the `STORAGE_EMULATOR_HOST` convention, points it at an emulator)
/// or `file:///absolute/path` ([`FileStore`]). Contacts nothing yet.
pub async fn from_url(
    url: &str,
    gcs_endpoint: Option<&str>,
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let bad = |reason: &str| StoreError::BadUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    if let Some(rest) = url.strip_prefix("gs://") {
        gcs_store(rest, gcs_endpoint).map_err(|e| bad(&e))
    } else if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(bad(
                "a file URL needs an absolute path, e.g. file:///var/lib/groundskeeper",
            ));
        }
        Ok(Arc::new(FileStore::new(path).await.map_err(|e| bad(&e))?))
    } else {
        Err(bad("expected gs://bucket/prefix or file:///path"))
    }
}

/// The [`GcsStore`] for `bucket[/prefix]`.
#[cfg(feature = "gcs")]
fn gcs_store(rest: &str, endpoint: Option<&str>) -> Result<Arc<dyn ObjectStore>, String> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    Ok(Arc::new(GcsStore::new(bucket, prefix, endpoint)?))
}

#[cfg(not(feature = "gcs"))]
fn gcs_store(_: &str, _: Option<&str>) -> Result<Arc<dyn ObjectStore>, String> {
    Err("this service was built without Cloud Storage (the `shared/gcs` cargo feature)".into())
}

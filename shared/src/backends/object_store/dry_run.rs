//! A store that writes nothing: puts and deletes are recorded into a [`Plan`]; reads go to
//! an optional real store (so a dry run of retention sees what exists) or find nothing.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::json;
use tokio::io::AsyncReadExt;

use super::keys::{validate_key, validate_prefix};
use super::{ByteReader, ObjectMeta, ObjectStore, StoreError};
use crate::backends::Plan;

/// Records writes as `{"backend": "object_store", "action": "put" | "delete", "key", ...}`.
#[derive(Clone)]
pub struct DryRunStore {
    plan: Plan,
    reads_from: Option<Arc<dyn ObjectStore>>,
}

impl std::fmt::Debug for DryRunStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DryRunStore")
            .field("reads_through", &self.reads_from.is_some())
            .finish()
    }
}

impl DryRunStore {
    /// Records into `plan`; reads find nothing.
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            reads_from: None,
        }
    }

    /// Records into `plan`; reads (`get`, `get_stream`, `head`, `list`) are answered by `store`, which is never written.
    pub fn reading_from(plan: Plan, store: Arc<dyn ObjectStore>) -> Self {
        Self {
            plan,
            reads_from: Some(store),
        }
    }

    fn record_put(&self, key: &str, size: u64, content_type: &str) {
        self.plan.record(json!({
            "backend": "object_store", "action": "put", "key": key,
            "size": size, "content_type": content_type,
        }));
    }
}

#[async_trait]
impl ObjectStore for DryRunStore {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        self.record_put(key, bytes.len() as u64, content_type);
        Ok(())
    }

    async fn put_stream(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
    ) -> Result<u64, StoreError> {
        validate_key(key)?;
        let size = drain(key, reader).await?;
        self.record_put(key, size, content_type);
        Ok(size)
    }

    /// Recorded as a plain put: the dry run cannot know whether the real write would be
    /// refused, and a plan shows what would be attempted.
    async fn put_stream_if_absent(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
    ) -> Result<u64, StoreError> {
        self.put_stream(key, reader, content_type).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        validate_key(key)?;
        match &self.reads_from {
            Some(store) => store.get(key).await,
            None => Ok(None),
        }
    }

    async fn get_stream(&self, key: &str) -> Result<Option<ByteReader>, StoreError> {
        validate_key(key)?;
        match &self.reads_from {
            Some(store) => store.get_stream(key).await,
            None => Ok(None),
        }
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        validate_key(key)?;
        match &self.reads_from {
            Some(store) => store.head(key).await,
            None => Ok(None),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        validate_prefix(prefix)?;
        match &self.reads_from {
            Some(store) => store.list(prefix).await,
            None => Ok(Vec::new()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        self.plan
            .record(json!({"backend": "object_store", "action": "delete", "key": key}));
        Ok(())
    }
}

/// Reads `reader` to its end and counts the bytes. Drained (not stored) so a producer
/// writing into a pipe is not left blocked.
async fn drain(key: &str, mut reader: ByteReader) -> Result<u64, StoreError> {
    let mut size = 0u64;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buffer)
            .await
            .map_err(|e| StoreError::Backend {
                backend: "dry-run",
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
        if n == 0 {
            return Ok(size);
        }
        size += n as u64;
    }
}

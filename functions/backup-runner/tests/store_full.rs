//! The object store fails while a dump streams into it (its disk is full, its bucket refuses
//! the write): `backup.failed` must name the upload and the store's own reason, not the
//! broken pipe pg_dump's output then meets. Found by the fault suite's full disk, where the
//! runner reported "step dump: writing the dump: broken pipe".
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use async_trait::async_trait;
use bytes::Bytes;
use shared::backends::object_store::{ByteReader, FileStore, ObjectMeta, ObjectStore, StoreError};
use testbed::Postgres;
use tokio::io::AsyncReadExt;

/// What a full disk says.
const NO_SPACE: &str = "No space left on device (os error 28)";

/// A directory store whose streamed writes stop after their first 64 KiB with [`NO_SPACE`].
struct FullDisk(FileStore);

#[async_trait]
impl ObjectStore for FullDisk {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), StoreError> {
        self.0.put(key, bytes, content_type).await
    }
    async fn put_stream(
        &self,
        key: &str,
        reader: ByteReader,
        content_type: &str,
    ) -> Result<u64, StoreError> {
        self.put_stream_if_absent(key, reader, content_type).await
    }
    async fn put_stream_if_absent(
        &self,
        key: &str,
        mut reader: ByteReader,
        _content_type: &str,
    ) -> Result<u64, StoreError> {
        let mut room = vec![0; 64 * 1024];
        reader.read_exact(&mut room).await.unwrap();
        Err(StoreError::Backend {
            backend: "file",
            key: key.to_owned(),
            reason: NO_SPACE.to_owned(),
        })
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        self.0.get(key).await
    }
    async fn get_stream(&self, key: &str) -> Result<Option<ByteReader>, StoreError> {
        self.0.get_stream(key).await
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.0.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.0.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete(key).await
    }
}

#[tokio::test]
async fn a_store_that_fails_mid_dump_is_reported_as_the_upload_with_its_reason() {
    let pg = Postgres::start().await;
    // Incompressible rows, so the dump is well past the store's 64 KiB.
    let target = support::noisy(&pg, 20_000).await;
    let dir = tempfile::tempdir().unwrap();
    let store = FullDisk(FileStore::new(dir.path().to_str().unwrap()).await.unwrap());
    let job = support::job(&store, &target);

    let err = job.run().await.expect_err("the store refused the dump");

    assert_eq!(err.step(), "upload", "{err}");
    assert!(err.to_string().contains(NO_SPACE), "{err}");
    assert!(
        store
            .0
            .head(&job.location.dump_key())
            .await
            .unwrap()
            .is_none(),
        "no dump object"
    );
}

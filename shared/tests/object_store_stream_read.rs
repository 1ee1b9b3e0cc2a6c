//! Streaming reads (`get_stream`) and `head`: a multi-megabyte object comes back byte-exact
//! through a small buffer, from a `file://` store and from fake-gcs-server; absent and
//! invalid keys are told apart; a server that goes away mid-download is an error, never a
//! short object.

use shared::backends::object_store::{
    self, DryRunStore, FileStore, GcsStore, ObjectMeta, ObjectStore, StoreError,
};
use shared::backends::Plan;
use std::sync::Arc;
use testbed::{unique_name, FakeGcs};
use tokio::io::AsyncReadExt;

/// Bytes that differ at every offset (a position-derived pattern), so a chunk dropped,
/// repeated or reordered changes the result.
fn pattern(len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8 ^ (i >> 16) as u8)
        .collect()
}

/// Reads `reader` to its end through an 8 KiB buffer, as a restore feeding a pipe would.
async fn read_in_chunks(mut reader: object_store::ByteReader) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = [0u8; 8 * 1024];
    loop {
        let n = reader.read(&mut buffer).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buffer[..n]);
    }
}

/// The contract of `get_stream` and `head` for any backend.
async fn streams_objects_back(store: &dyn ObjectStore) {
    let data = pattern(6 * 1024 * 1024 + 123);
    store
        .put_stream_if_absent(
            "backups/big.dump",
            Box::new(std::io::Cursor::new(data.clone())),
            "application/octet-stream",
        )
        .await
        .expect("upload");

    let reader = store.get_stream("backups/big.dump").await.expect("open");
    let read = read_in_chunks(reader.expect("object present"))
        .await
        .expect("read");
    assert!(
        read == data,
        "read {} bytes, not the {} written",
        read.len(),
        data.len()
    );
    assert_eq!(
        store.head("backups/big.dump").await.expect("head"),
        Some(ObjectMeta {
            key: "backups/big.dump".into(),
            size: data.len() as u64
        })
    );

    for absent in ["backups/missing.dump", "backups", "backups/big.dump/inner"] {
        assert!(
            store.get_stream(absent).await.expect(absent).is_none(),
            "{absent}"
        );
        assert_eq!(store.head(absent).await.expect(absent), None, "{absent}");
    }
    for invalid in ["../etc/passwd", "/abs", "a//b", ""] {
        let stream = store.get_stream(invalid).await.err();
        assert!(
            matches!(stream, Some(StoreError::InvalidKey { .. })),
            "{invalid}: {stream:?}"
        );
        let head = store.head(invalid).await.err();
        assert!(
            matches!(head, Some(StoreError::InvalidKey { .. })),
            "{invalid}: {head:?}"
        );
    }
}

#[tokio::test]
async fn file_store_streams_objects_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FileStore::new(dir.path()).await.expect("file store");
    streams_objects_back(&store).await;
}

/// A store on a new bucket of `gcs`, under a prefix. Two tries of a transient failure
/// instead of five minutes of retries against a server a test has stopped.
async fn store_on(gcs: &FakeGcs) -> GcsStore {
    let bucket = unique_name("bucket");
    gcs.create_bucket(&bucket).await;
    GcsStore::new(&bucket, "env", Some(&gcs.endpoint()))
        .expect("gcs store")
        .with_retry_attempts(2)
}

#[tokio::test]
async fn gcs_store_streams_objects_back_from_fake_gcs_server() {
    let gcs = FakeGcs::start().await;
    streams_objects_back(&store_on(&gcs).await).await;
}

#[tokio::test]
async fn dry_run_streams_from_the_store_it_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let real: Arc<dyn ObjectStore> = Arc::new(FileStore::new(dir.path()).await.expect("store"));
    let dry = DryRunStore::reading_from(Plan::default(), real.clone());
    real.put("a.bin", vec![7u8; 5000].into(), "application/octet-stream")
        .await
        .expect("put");
    let reader = dry
        .get_stream("a.bin")
        .await
        .expect("open")
        .expect("present");
    assert_eq!(read_in_chunks(reader).await.expect("read"), vec![7u8; 5000]);
    assert_eq!(
        dry.head("a.bin").await.expect("head").map(|m| m.size),
        Some(5000)
    );
    assert!(matches!(
        dry.get_stream("../a.bin").await.err(),
        Some(StoreError::InvalidKey { .. })
    ));
    // Without a store to read from, a dry run finds nothing.
    let blind = DryRunStore::new(Plan::default());
    assert!(blind.get_stream("a.bin").await.expect("open").is_none());
    assert_eq!(blind.head("a.bin").await.expect("head"), None);
}

/// The server stops after the first bytes of a 32 MiB object were read: more than the
/// sockets buffer, so the rest cannot arrive. The reader must fail, not end early.
#[tokio::test]
async fn gcs_read_fails_when_the_server_goes_away_mid_download() {
    let gcs = FakeGcs::start().await;
    let store = store_on(&gcs).await;
    let data = pattern(32 * 1024 * 1024);
    store
        .put_stream(
            "big.dump",
            Box::new(std::io::Cursor::new(data)),
            "application/octet-stream",
        )
        .await
        .expect("upload");

    let mut reader = store
        .get_stream("big.dump")
        .await
        .expect("open")
        .expect("present");
    let mut first = vec![0u8; 64 * 1024];
    reader.read_exact(&mut first).await.expect("first bytes");
    drop(gcs);

    let rest = read_in_chunks(reader).await;
    assert!(
        rest.is_err(),
        "read ended without error after {} more bytes",
        rest.map(|r| r.len()).unwrap_or(0)
    );
    // And opening anew fails too, rather than finding nothing.
    let reopen = store.get_stream("big.dump").await.err();
    assert!(
        matches!(reopen, Some(StoreError::Backend { backend: "gcs", .. })),
        "{reopen:?}"
    );
}

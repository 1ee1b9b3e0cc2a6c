//! Create-only writes (`put_stream_if_absent`): a backup is written once and never replaced,
//! on the local file store and on Cloud Storage (fake-gcs-server, which does not enforce the
//! generation precondition, so only the upload and failure paths are checked there).

mod failing_reader;
use failing_reader::FailingReader;
use shared::backends::object_store::{self, DryRunStore, FileStore, ObjectStore, StoreError};
use shared::backends::Plan;
use testbed::{unique_name, FakeGcs};

fn reader(bytes: &'static [u8]) -> object_store::ByteReader {
    Box::new(std::io::Cursor::new(bytes))
}

/// The first write lands; a second is refused and the first object's bytes stay.
async fn writes_once_and_never_overwrites(store: &dyn ObjectStore) {
    let first = store
        .put_stream_if_absent("backups/db.dump", reader(b"first"), "application/gzip")
        .await
        .expect("first write");
    assert_eq!(first, 5);

    let err = store
        .put_stream_if_absent("backups/db.dump", reader(b"second!"), "application/gzip")
        .await
        .expect_err("second write is refused");
    assert!(
        matches!(&err, StoreError::AlreadyExists { key } if key == "backups/db.dump"),
        "{err:?}"
    );
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(
        store.get("backups/db.dump").await.expect("get").as_deref(),
        Some(&b"first"[..])
    );
}

/// A reader that fails halfway leaves nothing under the key.
async fn a_failed_stream_creates_nothing(store: &dyn ObjectStore) {
    let failing = Box::new(FailingReader { left: 300_000 });
    let err = store
        .put_stream_if_absent("backups/crashed.dump", failing, "application/gzip")
        .await
        .expect_err("stream fails");
    assert!(!matches!(err, StoreError::AlreadyExists { .. }), "{err:?}");
    assert_eq!(store.get("backups/crashed.dump").await.expect("get"), None);
    assert!(store
        .list("backups/crashed")
        .await
        .expect("list")
        .is_empty());
    // The key is still free: the retry of the backup can create it.
    store
        .put_stream_if_absent("backups/crashed.dump", reader(b"retry"), "application/gzip")
        .await
        .expect("write after the failed one");
}

#[tokio::test]
async fn file_store_creates_only_if_absent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FileStore::new(dir.path()).await.expect("file store");
    writes_once_and_never_overwrites(&store).await;
    a_failed_stream_creates_nothing(&store).await;
    // No temp files left beside the objects, whether the write succeeded, was refused or failed.
    let mut names: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["crashed.dump", "db.dump"]);
}

#[tokio::test]
async fn gcs_store_creates_only_if_absent_on_fake_gcs_server() {
    let gcs = FakeGcs::start().await;
    let bucket = unique_name("bucket");
    gcs.create_bucket(&bucket).await;
    let store = object_store::from_url(&format!("gs://{bucket}/env"), Some(&gcs.endpoint()))
        .await
        .expect("gcs store");
    // fake-gcs-server ignores `ifGenerationMatch` (it overwrites even with `=0`), so the
    // refusal itself cannot be checked here; the upload path and a failed stream can.
    let size = store
        .put_stream_if_absent("backups/db.dump", reader(b"first"), "application/gzip")
        .await
        .expect("first write");
    assert_eq!(size, 5);
    a_failed_stream_creates_nothing(store.as_ref()).await;
    let mut names = gcs.list_objects(&bucket).await;
    names.sort();
    assert_eq!(
        names,
        vec!["env/backups/crashed.dump", "env/backups/db.dump"]
    );
}

#[tokio::test]
async fn dry_run_records_a_create_only_write_as_a_put() {
    let plan = Plan::default();
    let dry = DryRunStore::new(plan.clone());
    let size = dry
        .put_stream_if_absent("backups/db.dump", reader(b"abc"), "application/gzip")
        .await
        .expect("recorded");
    assert_eq!(size, 3);
    assert_eq!(
        plan.actions(),
        vec![
            serde_json::json!({"backend": "object_store", "action": "put", "key": "backups/db.dump", "size": 3, "content_type": "application/gzip"})
        ]
    );
}

/// An object several times the file store's background-flush interval (8 MiB) lands byte for
/// byte, and one failing past several flushes leaves nothing behind, not even its temp file.
#[tokio::test]
async fn file_store_writes_large_streams_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = FileStore::new(dir.path()).await.expect("file store");
    // Every 8-byte word differs, so a lost, doubled or reordered chunk changes the bytes.
    let bytes: Vec<u8> = (0..(21 << 20) / 8u64)
        .flat_map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes())
        .collect();
    let written = store
        .put_stream_if_absent(
            "backups/large.dump",
            Box::new(std::io::Cursor::new(bytes.clone())),
            "application/octet-stream",
        )
        .await
        .expect("large write");
    assert_eq!(written, bytes.len() as u64);
    let stored = store.get("backups/large.dump").await.expect("get");
    assert!(stored.as_deref() == Some(&bytes[..]), "the bytes differ");

    let failing = Box::new(FailingReader { left: 19 << 20 });
    store
        .put_stream_if_absent("backups/broken.dump", failing, "application/gzip")
        .await
        .expect_err("stream fails");
    let names: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["large.dump"]);
}

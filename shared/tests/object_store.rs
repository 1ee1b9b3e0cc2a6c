//! One behaviour test for every object store: `file://` on a temp dir and `gs://` on
//! fake-gcs-server through the official client. Plus what only one of them can show.

mod failing_reader;
use failing_reader::FailingReader;
use std::sync::Arc;

use bytes::Bytes;
use shared::backends::object_store::{self, DryRunStore, ObjectMeta, ObjectStore, StoreError};
use shared::backends::Plan;
use testbed::{unique_name, FakeGcs};

/// The contract every backend keeps.
async fn behaves_like_an_object_store(store: &dyn ObjectStore) {
    assert_eq!(store.get("missing/key").await.expect("get missing"), None);
    assert!(store.list("").await.expect("list empty").is_empty());

    store
        .put(
            "a/one.json",
            Bytes::from_static(b"{\"n\":1}"),
            "application/json",
        )
        .await
        .expect("put");
    store
        .put(
            "a/b/two.bin",
            Bytes::from(vec![0u8, 1, 2, 255]),
            "application/octet-stream",
        )
        .await
        .expect("put");
    store
        .put("z.txt", Bytes::from_static(b"zed"), "text/plain")
        .await
        .expect("put");
    assert_eq!(
        store.get("a/one.json").await.expect("get").as_deref(),
        Some(&b"{\"n\":1}"[..])
    );
    assert_eq!(
        store.get("a/b/two.bin").await.expect("get").as_deref(),
        Some(&[0u8, 1, 2, 255][..])
    );

    // Overwrite replaces.
    store
        .put("z.txt", Bytes::from_static(b"zed again"), "text/plain")
        .await
        .expect("overwrite");
    assert_eq!(
        store.get("z.txt").await.expect("get").as_deref(),
        Some(&b"zed again"[..])
    );

    let meta = |key: &str, size: u64| ObjectMeta {
        key: key.to_owned(),
        size,
    };
    assert_eq!(
        store.list("").await.expect("list all"),
        vec![
            meta("a/b/two.bin", 4),
            meta("a/one.json", 7),
            meta("z.txt", 9)
        ]
    );
    assert_eq!(
        store.list("a/").await.expect("list a/"),
        vec![meta("a/b/two.bin", 4), meta("a/one.json", 7)]
    );
    assert_eq!(
        store.list("a/o").await.expect("partial prefix"),
        vec![meta("a/one.json", 7)]
    );
    assert!(store.list("nothing/").await.expect("list none").is_empty());
    // A "directory" is only a prefix, not an object.
    assert_eq!(store.get("a/b").await.expect("get a prefix"), None);

    // A streamed upload, larger than one upload chunk and not a multiple of it.
    let big: Vec<u8> = (0..(3 * 1024 * 1024 + 123))
        .map(|i| (i % 251) as u8)
        .collect();
    let reader = Box::new(std::io::Cursor::new(big.clone()));
    let written = store
        .put_stream("dumps/big.dump", reader, "application/octet-stream")
        .await
        .expect("stream");
    assert_eq!(written, big.len() as u64);
    assert_eq!(
        store
            .get("dumps/big.dump")
            .await
            .expect("get big")
            .as_deref(),
        Some(&big[..])
    );

    store.delete("a/one.json").await.expect("delete");
    store
        .delete("a/one.json")
        .await
        .expect("deleting a missing object succeeds");
    assert_eq!(store.get("a/one.json").await.expect("get deleted"), None);
    assert_eq!(
        store.list("").await.expect("list after delete"),
        vec![
            meta("a/b/two.bin", 4),
            meta("dumps/big.dump", big.len() as u64),
            meta("z.txt", 9)
        ]
    );

    for bad in ["../escape", "/abs", "a//b", "a/./b", ""] {
        let err = store
            .put(bad, Bytes::from_static(b"x"), "text/plain")
            .await
            .expect_err(bad);
        assert!(
            matches!(err, StoreError::InvalidKey { .. }),
            "{bad:?}: {err}"
        );
        assert!(store.get(bad).await.is_err(), "get {bad:?}");
        assert!(store.delete(bad).await.is_err(), "delete {bad:?}");
    }
}

#[tokio::test]
async fn file_store_keeps_the_contract() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("store");
    let store = object_store::from_url(&format!("file://{}", root.display()), None)
        .await
        .expect("file store");
    behaves_like_an_object_store(store.as_ref()).await;

    // Nothing escaped the root, and no temp files were left behind.
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read temp dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("store")]);
    let leftovers = walk(&root)
        .into_iter()
        .filter(|p| p.contains(".gk-tmp-"))
        .collect::<Vec<_>>();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn gcs_store_keeps_the_contract_on_fake_gcs_server() {
    let gcs = FakeGcs::start().await;
    let bucket = unique_name("bucket");
    gcs.create_bucket(&bucket).await;
    let url = format!("gs://{bucket}/env/pr-1");
    let store = object_store::from_url(&url, Some(&gcs.endpoint()))
        .await
        .expect("gcs store");
    behaves_like_an_object_store(store.as_ref()).await;

    // Keys live under the URL's prefix in the bucket.
    let mut names = gcs.list_objects(&bucket).await;
    names.sort();
    assert_eq!(
        names,
        vec![
            "env/pr-1/a/b/two.bin",
            "env/pr-1/dumps/big.dump",
            "env/pr-1/z.txt"
        ]
    );
}

#[tokio::test]
async fn a_failed_stream_leaves_no_object_behind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = object_store::FileStore::new(dir.path())
        .await
        .expect("file store");
    store
        .put("k", Bytes::from_static(b"old"), "text/plain")
        .await
        .expect("put");
    let failing = Box::new(FailingReader { left: 10_000 });
    let err = store
        .put_stream("k", failing, "text/plain")
        .await
        .expect_err("stream fails");
    assert!(err.to_string().contains("`k`"), "{err}");
    assert_eq!(
        store.get("k").await.expect("get").as_deref(),
        Some(&b"old"[..])
    );
    assert_eq!(walk(dir.path()), vec!["k".to_owned()]);
}

#[tokio::test]
async fn dry_run_records_writes_and_reads_through() {
    let dir = tempfile::tempdir().expect("temp dir");
    let real: Arc<dyn ObjectStore> = Arc::new(
        object_store::FileStore::new(dir.path())
            .await
            .expect("file store"),
    );
    real.put("old/backup", Bytes::from_static(b"1234"), "text/plain")
        .await
        .expect("seed");

    let plan = Plan::default();
    let dry = DryRunStore::reading_from(plan.clone(), real.clone());
    assert_eq!(dry.list("old/").await.expect("list").len(), 1);
    dry.put("new/backup", Bytes::from_static(b"abc"), "text/plain")
        .await
        .expect("put");
    let streamed = dry
        .put_stream(
            "new/stream",
            Box::new(std::io::Cursor::new(vec![7u8; 5000])),
            "application/gzip",
        )
        .await;
    assert_eq!(streamed.expect("stream"), 5000);
    dry.delete("old/backup").await.expect("delete");

    assert_eq!(
        plan.actions(),
        vec![
            serde_json::json!({"backend": "object_store", "action": "put", "key": "new/backup", "size": 3, "content_type": "text/plain"}),
            serde_json::json!({"backend": "object_store", "action": "put", "key": "new/stream", "size": 5000, "content_type": "application/gzip"}),
            serde_json::json!({"backend": "object_store", "action": "delete", "key": "old/backup"}),
        ]
    );
    // Nothing was written or deleted for real.
    assert_eq!(walk(dir.path()), vec!["old/backup".to_owned()]);
    assert!(DryRunStore::new(Plan::default())
        .get("old/backup")
        .await
        .expect("get")
        .is_none());
}

#[tokio::test]
async fn bad_urls_are_refused_with_the_reason() {
    for (url, needle) in [
        ("s3://bucket/x", "gs://"),
        ("file://relative/path", "absolute"),
        ("gs://Bad_Bucket!", "bucket"),
        ("gs://ok-bucket/../x", "prefix"),
    ] {
        let err = object_store::from_url(url, None)
            .await
            .err()
            .unwrap_or_else(|| panic!("{url} accepted"));
        assert!(matches!(err, StoreError::BadUrl { .. }), "{url}: {err}");
        assert!(
            err.to_string().contains(needle) && err.to_string().contains(url),
            "{url}: {err}"
        );
    }
}

/// Every file under `root`, as sorted relative paths.
fn walk(root: &std::path::Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            if entry.file_type().expect("file type").is_dir() {
                dirs.push(entry.path());
            } else {
                let path = entry.path();
                files.push(
                    path.strip_prefix(root)
                        .expect("under root")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    files.sort();
    files
}

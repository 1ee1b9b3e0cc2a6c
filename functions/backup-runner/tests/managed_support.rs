//! What the managed export tests share: the export bucket (a `file://` store in a temp dir,
//! which the fake Google services write into the way Cloud SQL and Memorystore write into
//! theirs), fast polling, and the failure check. The tests include it with `#[path]`; as a
//! test target of its own it holds no test.
#![allow(dead_code)]

use std::time::Duration;

use backup_runner::managed::{ExportBucket, ManagedError, Polling};
use chrono::{DateTime, TimeZone, Utc};
use shared::backends::object_store::FileStore;

/// The bucket's name in the export URIs.
pub const BUCKET: &str = "gk-exports";

/// A temp-dir bucket with the prefix `nightly`.
#[derive(Debug)]
pub struct FakeBucket {
    _dir: tempfile::TempDir,
    /// The store the exporters check for existing objects.
    pub store: FileStore,
    /// `gs://gk-exports/nightly`.
    pub bucket: ExportBucket,
}

impl FakeBucket {
    /// A new, empty bucket.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FileStore::new(dir.path()).await.expect("file store");
        let bucket = ExportBucket::parse(&format!("gs://{BUCKET}/nightly")).expect("bucket");
        Self {
            _dir: dir,
            store,
            bucket,
        }
    }

    /// What the managed service does when its export completes: the object at `uri`.
    pub fn write_uri(&self, uri: &str, bytes: &[u8]) {
        let key = uri
            .strip_prefix(&format!("gs://{BUCKET}/"))
            .unwrap_or_else(|| panic!("export to another bucket: {uri}"));
        let path = self.store.root().join(key);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write object");
    }
}

/// The 03:00 UTC window of 2026-11-27.
pub fn window() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 3, 0, 0)
        .single()
        .expect("a UTC time")
}

/// Polling every 5 ms, at most `max_polls` times.
pub fn polling(max_polls: u32) -> Polling {
    Polling {
        interval: Duration::from_millis(5),
        max_polls,
    }
}

/// `err` is a failed operation, not a retry, and its message names every one of `parts`.
pub fn assert_operation_failed(err: &ManagedError, parts: &[&str]) {
    assert!(
        matches!(err, ManagedError::OperationFailed { .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable(), "{err:?}");
    let text = err.to_string();
    for part in parts {
        assert!(text.contains(part), "{part:?} missing from {text:?}");
    }
}

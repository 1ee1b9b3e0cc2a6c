//! Create-only writes to a directory store: complete under the final name or absent, and
//! never replacing an existing object, whoever writes second.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::pin::Pin;
use std::task::{Context, Poll};

use backup_runner::store::{CreateError, CreateOnlyDir};
use shared::backends::object_store::{FileStore, ObjectStore};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

const KEY: &str = "backups/pr-1/app_db/2026/03/07/b1.dump";

/// Yields `good` bytes, then fails: an upload cut off halfway.
struct FailsHalfway {
    good: usize,
}

impl AsyncRead for FailsHalfway {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.good == 0 {
            return Poll::Ready(Err(std::io::Error::other("connection reset")));
        }
        let n = self.good.min(buf.remaining());
        buf.put_slice(&vec![b'x'; n]);
        self.good -= n;
        Poll::Ready(Ok(()))
    }
}

/// Every file under `root`, relative, sorted (temp names included).
fn files(root: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                found.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn a_source_failing_halfway_leaves_nothing_under_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = CreateOnlyDir::new(dir.path());
    let error = store
        .create_from(KEY, &mut FailsHalfway { good: 100_000 })
        .await
        .unwrap_err();
    assert!(matches!(error, CreateError::Io { .. }), "{error}");
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn a_crash_mid_upload_leaves_only_a_temp_that_readers_never_see() {
    let dir = tempfile::tempdir().unwrap();
    let store = CreateOnlyDir::new(dir.path());
    let mut pending = store.begin(KEY).await.unwrap();
    pending.write_all(b"PGDMP half an archive").await.unwrap();
    // A crash: no commit, no destructor.
    std::mem::forget(pending);
    let left = files(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(!left[0].ends_with(".dump"), "{left:?}");
    let reader = FileStore::new(dir.path()).await.unwrap();
    assert_eq!(reader.get(KEY).await.unwrap(), None);
    assert_eq!(reader.list("").await.unwrap(), vec![]);
    // The key is still free: the redelivery's write succeeds.
    store.create_from(KEY, &mut &b"whole"[..]).await.unwrap();
    assert_eq!(&reader.get(KEY).await.unwrap().unwrap()[..], b"whole");
}

#[tokio::test]
async fn a_second_write_is_refused_and_the_first_object_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = CreateOnlyDir::new(dir.path());
    store.create_from(KEY, &mut &b"first"[..]).await.unwrap();
    let error = store
        .create_from(KEY, &mut &b"second"[..])
        .await
        .unwrap_err();
    assert!(
        matches!(error, CreateError::AlreadyExists { .. }),
        "{error}"
    );
    assert_eq!(std::fs::read(dir.path().join(KEY)).unwrap(), b"first");
}

/// Two replicas both start before either finishes: the second to commit loses, and the
/// winner's object stays (a rename would have replaced it).
#[tokio::test]
async fn of_two_concurrent_writers_the_second_commit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = CreateOnlyDir::new(dir.path());
    let mut first = store.begin(KEY).await.unwrap();
    let mut second = store.begin(KEY).await.unwrap();
    first.write_all(b"first").await.unwrap();
    second.write_all(b"second").await.unwrap();
    first.commit().await.unwrap();
    let error = second.commit().await.unwrap_err();
    assert!(
        matches!(error, CreateError::AlreadyExists { .. }),
        "{error}"
    );
    assert_eq!(std::fs::read(dir.path().join(KEY)).unwrap(), b"first");
    assert_eq!(files(dir.path()), vec![KEY.to_owned()]);
}

#[tokio::test]
async fn keys_that_could_escape_the_root_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = CreateOnlyDir::new(dir.path().join("root"));
    for key in ["../outside", "/etc/x", "a/../../x", "a\0b", ".gk-tmp-x"] {
        let error = store.begin(key).await.unwrap_err();
        assert!(matches!(error, CreateError::Store(_)), "{key:?}: {error}");
    }
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

#[test]
fn only_file_urls_are_accepted_until_gcs_has_a_create_only_write() {
    assert!(CreateOnlyDir::from_url("file:///var/backups").is_ok());
    assert!(CreateOnlyDir::from_url("gs://bucket/prefix").is_err());
    assert!(CreateOnlyDir::from_url("file://relative").is_err());
}

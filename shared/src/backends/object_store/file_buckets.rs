//! Buckets on a local disk, for the local stack and tests: each bucket is a directory beside
//! the configured store's root (`file:///srv/gk/objects` → buckets under `/srv/gk/`), and its
//! labels live in a hidden file next to it, `.NAME.bucket.json`. The directory is the bucket;
//! a directory without a labels file is a bucket without labels (someone else's).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::buckets::{
    validate_bucket_name, BucketError, BucketSpec, BucketState, Buckets, Created,
};
use super::keys::TEMP_PREFIX;
use super::{FileStore, ObjectStore};

/// Buckets as directories in one parent directory.
#[derive(Debug, Clone)]
pub struct FileBuckets {
    dir: PathBuf,
    root: PathBuf,
}

fn fail(bucket: &str, reason: impl std::fmt::Display, retryable: bool) -> BucketError {
    BucketError {
        bucket: bucket.to_owned(),
        reason: reason.to_string(),
        retryable,
    }
}

/// Local I/O errors are retried (a full disk may be freed), but never a permission refusal.
fn io(bucket: &str, error: std::io::Error) -> BucketError {
    let retryable = error.kind() != ErrorKind::PermissionDenied;
    fail(bucket, error, retryable)
}

impl FileBuckets {
    /// Buckets in the parent directory of `root`, the root of a `file://` object store.
    pub fn beside(root: impl AsRef<Path>) -> Result<Self, String> {
        let root = root.as_ref();
        if !root.is_absolute() {
            return Err(format!("{} is not an absolute path", root.display()));
        }
        let dir = root
            .parent()
            .ok_or_else(|| format!("{} has no parent directory for buckets", root.display()))?;
        Ok(Self {
            dir: dir.to_owned(),
            root: root.to_owned(),
        })
    }

    fn path(&self, name: &str) -> Result<PathBuf, BucketError> {
        validate_bucket_name(name).map_err(|reason| fail(name, reason, false))?;
        let path = self.dir.join(name);
        if path == self.root {
            return Err(fail(name, "is the object store's own directory", false));
        }
        Ok(path)
    }

    fn labels_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!(".{name}.bucket.json"))
    }

    /// Writes the labels file through a temp file, so it is never seen half written.
    async fn write_labels(&self, spec: &BucketSpec) -> Result<(), BucketError> {
        let body = json!({ "location": spec.location, "labels": spec.labels }).to_string();
        let temp = self
            .dir
            .join(format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
        let written = async {
            tokio::fs::create_dir_all(&self.dir).await?;
            tokio::fs::write(&temp, body).await?;
            tokio::fs::rename(&temp, self.labels_path(&spec.name)).await
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        written.map_err(|e| io(&spec.name, e))
    }
}

#[async_trait]
impl Buckets for FileBuckets {
    async fn create(&self, spec: &BucketSpec) -> Result<Created, BucketError> {
        let path = self.path(&spec.name)?;
        if tokio::fs::try_exists(&path)
            .await
            .map_err(|e| io(&spec.name, e))?
        {
            return Ok(Created::AlreadyExists);
        }
        // Labels first, then the directory: a crash in between leaves no bucket, only a
        // labels file that the next create overwrites.
        self.write_labels(spec).await?;
        match tokio::fs::create_dir(&path).await {
            Ok(()) => Ok(Created::New),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(Created::AlreadyExists),
            Err(e) => Err(io(&spec.name, e)),
        }
    }

    async fn state(&self, name: &str) -> Result<BucketState, BucketError> {
        let path = self.path(name)?;
        match tokio::fs::metadata(&path).await {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(BucketState::Absent),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => return Ok(BucketState::Forbidden),
            Err(e) => return Err(io(name, e)),
        }
        let labels = match tokio::fs::read(self.labels_path(name)).await {
            Ok(bytes) => {
                let file: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|e| fail(name, format!("labels file: {e}"), false))?;
                serde_json::from_value(file["labels"].clone())
                    .map_err(|e| fail(name, format!("labels file: {e}"), false))?
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Default::default(),
            Err(e) => return Err(io(name, e)),
        };
        Ok(BucketState::Present { labels })
    }

    async fn delete(&self, name: &str) -> Result<(), BucketError> {
        let path = self.path(name)?;
        if tokio::fs::try_exists(&path)
            .await
            .map_err(|e| io(name, e))?
        {
            // Empty means no object; directories left behind by deleted objects do not count,
            // as Cloud Storage has none.
            let objects = self.store(name).await?.list("").await;
            match objects {
                Ok(objects) if objects.is_empty() => {}
                Ok(objects) => {
                    return Err(fail(
                        name,
                        format!("is not empty ({} objects)", objects.len()),
                        true,
                    ))
                }
                Err(e) => {
                    let retryable = e.is_retryable();
                    return Err(fail(name, e, retryable));
                }
            }
            match tokio::fs::remove_dir_all(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io(name, e)),
            }
        }
        match tokio::fs::remove_file(self.labels_path(name)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(name, e)),
        }
    }

    async fn store(&self, name: &str) -> Result<Arc<dyn ObjectStore>, BucketError> {
        let path = self.path(name)?;
        // FileStore::new would create a missing directory: a bucket nobody made.
        if !tokio::fs::metadata(&path)
            .await
            .map(|m| m.is_dir())
            .unwrap_or(false)
        {
            return Err(fail(name, "no such bucket", false));
        }
        let store = FileStore::new(path)
            .await
            .map_err(|e| fail(name, e, true))?;
        Ok(Arc::new(store))
    }

    fn url(&self, name: &str) -> String {
        format!("file://{}/", self.dir.join(name).display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> BucketSpec {
        BucketSpec {
            name: name.into(),
            location: "local".into(),
            labels: [("managed-by".to_owned(), "groundskeeper".to_owned())].into(),
        }
    }

    #[tokio::test]
    async fn a_bucket_lives_beside_the_root_with_its_labels_until_deleted_empty() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = FileBuckets::beside(dir.path().join("objects")).unwrap();
        assert_eq!(buckets.state("gk-a").await.unwrap(), BucketState::Absent);
        assert_eq!(buckets.create(&spec("gk-a")).await.unwrap(), Created::New);
        assert_eq!(
            buckets.create(&spec("gk-a")).await.unwrap(),
            Created::AlreadyExists
        );
        assert_eq!(
            buckets.state("gk-a").await.unwrap(),
            BucketState::Present {
                labels: spec("gk-a").labels
            }
        );
        assert!(dir.path().join("gk-a").is_dir());
        assert_eq!(
            buckets.url("gk-a"),
            format!("file://{}/gk-a/", dir.path().display())
        );

        let store = buckets.store("gk-a").await.unwrap();
        store.put("x/y", "hi".into(), "text/plain").await.unwrap();
        let err = buckets.delete("gk-a").await.unwrap_err();
        assert!(err.reason.contains("not empty") && err.retryable, "{err}");
        store.delete("x/y").await.unwrap();
        buckets.delete("gk-a").await.unwrap();
        assert_eq!(buckets.state("gk-a").await.unwrap(), BucketState::Absent);
        assert!(!buckets.labels_path("gk-a").exists());
        buckets
            .delete("gk-a")
            .await
            .expect("deleting a missing bucket is done");
        assert!(
            buckets.store("gk-a").await.is_err(),
            "store never creates a bucket"
        );
        assert!(!dir.path().join("gk-a").exists());
    }

    #[tokio::test]
    async fn a_directory_without_labels_is_someone_elses_and_bad_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let buckets = FileBuckets::beside(dir.path().join("objects")).unwrap();
        std::fs::create_dir(dir.path().join("theirs")).unwrap();
        assert_eq!(
            buckets.create(&spec("theirs")).await.unwrap(),
            Created::AlreadyExists
        );
        assert_eq!(
            buckets.state("theirs").await.unwrap(),
            BucketState::Present {
                labels: Default::default()
            }
        );
        assert!(!buckets.labels_path("theirs").exists(), "left alone");
        for bad in ["objects", "../etc", "Up"] {
            let err = buckets.create(&spec(bad)).await.unwrap_err();
            assert!(!err.retryable, "{bad}: {err}");
        }
    }
}

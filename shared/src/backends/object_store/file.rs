//! `file:///path`: objects are files under a root directory. Writes go to a temp file in
//! the target directory and are renamed into place, so readers never see a partial object;
//! create-only writes hard-link the temp file instead, which never replaces an object.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::file_copy::copy_with_writeback;
use super::keys::{validate_key, validate_prefix, TEMP_PREFIX};
use super::{ByteReader, ObjectMeta, ObjectStore, StoreError};

/// Objects as files under `root`.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    /// A store rooted at `root` (an absolute path), created if missing.
    pub async fn new(root: impl Into<PathBuf>) -> Result<Self, String> {
        let root = root.into();
        if !root.is_absolute() {
            return Err(format!("{} is not an absolute path", root.display()));
        }
        tokio::fs::create_dir_all(&root)
            .await
            .map_err(|e| format!("creating {}: {e}", root.display()))?;
        Ok(Self { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    /// Writes through a temp file next to the target, then moves it into place: renamed
    /// over any old object, or (`create_only`) hard-linked, which fails instead of replacing.
    async fn write_atomically(
        &self,
        key: &str,
        reader: &mut ByteReader,
        create_only: bool,
    ) -> Result<u64, StoreError> {
        let path = self.path(key)?;
        let fail = |e: std::io::Error| backend_error(key, e);
        let dir = path.parent().expect("a key path has a parent: the root");
        tokio::fs::create_dir_all(dir).await.map_err(fail)?;
        let temp = dir.join(format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            let n = copy_with_writeback(reader, &mut file).await?;
            file.flush().await?;
            file.sync_all().await?;
            if create_only {
                // link(2) is atomic and never replaces: another replica's object wins.
                tokio::fs::hard_link(&temp, &path).await?;
                tokio::fs::remove_file(&temp).await?;
                // The new name is durable only once the directory entry is.
                tokio::fs::File::open(dir).await?.sync_all().await?;
            } else {
                tokio::fs::rename(&temp, &path).await?;
            }
            Ok::<u64, std::io::Error>(n)
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        written.map_err(|e| match e.kind() {
            ErrorKind::AlreadyExists if create_only => StoreError::AlreadyExists {
                key: key.to_owned(),
            },
            _ => fail(e),
        })
    }
}

fn backend_error(key: &str, error: std::io::Error) -> StoreError {
    StoreError::Backend {
        backend: "file",
        key: key.to_owned(),
        reason: error.to_string(),
    }
}

/// No object: nothing there, or a directory, which is only a key prefix (as on Cloud
/// Storage); `NotADirectory` when a key's parent is itself an object.
fn is_absent(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::NotFound | ErrorKind::IsADirectory | ErrorKind::NotADirectory
    )
}

#[async_trait]
impl ObjectStore for FileStore {
    async fn put(&self, key: &str, bytes: Bytes, _content_type: &str) -> Result<(), StoreError> {
        let mut reader: ByteReader = Box::new(std::io::Cursor::new(bytes));
        self.write_atomically(key, &mut reader, false)
            .await
            .map(|_| ())
    }

    async fn put_stream(
        &self,
        key: &str,
        mut reader: ByteReader,
        _content_type: &str,
    ) -> Result<u64, StoreError> {
        self.write_atomically(key, &mut reader, false).await
    }

    async fn put_stream_if_absent(
        &self,
        key: &str,
        mut reader: ByteReader,
        _content_type: &str,
    ) -> Result<u64, StoreError> {
        self.write_atomically(key, &mut reader, true).await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(backend_error(key, e)),
        }
    }

    async fn get_stream(&self, key: &str) -> Result<Option<ByteReader>, StoreError> {
        let path = self.path(key)?;
        // open(2) of a directory succeeds, so check what was opened, not only the error.
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(backend_error(key, e)),
        };
        let meta = file.metadata().await.map_err(|e| backend_error(key, e))?;
        Ok(meta.is_file().then(|| Box::new(file) as ByteReader))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(meta.is_file().then(|| ObjectMeta {
                key: key.to_owned(),
                size: meta.len(),
            })),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(backend_error(key, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        validate_prefix(prefix)?;
        let fail = |e: std::io::Error| backend_error(prefix, e);
        let mut found = Vec::new();
        let mut dirs = vec![(self.root.clone(), String::new())];
        while let Some((dir, key_prefix)) = dirs.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(fail(e)),
            };
            while let Some(entry) = entries.next_entry().await.map_err(fail)? {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let key = format!("{key_prefix}{name}");
                let file_type = entry.file_type().await.map_err(fail)?;
                // Only descend where keys under this directory can still match.
                if file_type.is_dir()
                    && (prefix.starts_with(&format!("{key}/")) || key.starts_with(prefix))
                {
                    dirs.push((entry.path(), format!("{key}/")));
                } else if file_type.is_file()
                    && !name.starts_with(TEMP_PREFIX)
                    && key.starts_with(prefix)
                {
                    let size = entry.metadata().await.map_err(fail)?.len();
                    found.push(ObjectMeta { key, size });
                }
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(backend_error(key, e)),
        }
    }
}

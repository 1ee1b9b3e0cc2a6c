//! Create-only writes to a `file://` store: an object appears complete under its key, or
//! not at all, and an existing object is never replaced.
//!
//! `shared`'s `ObjectStore::put_stream` renames into place, which replaces; this writes to a
//! temporary name in the same directory, fsyncs it, then `hard_link`s it to the final name,
//! which fails with `AlreadyExists` instead of replacing, and removes the temporary name.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use shared::backends::object_store::{validate_key, StoreError};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// The prefix `shared`'s `FileStore` gives its temp files: it never lists them and refuses
/// keys starting with it, so a temp left by a crash is invisible to readers.
const TEMP_PREFIX: &str = ".gk-tmp-";

/// Why a create-only write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// An object already exists under the key; it was left untouched.
    #[error("object `{key}` already exists; it is never overwritten")]
    AlreadyExists {
        /// The key.
        key: String,
    },
    /// The key is not a safe object key, or the store URL is not usable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the source or writing the file failed; nothing is under the key.
    #[error("writing object `{key}`: {source}")]
    Io {
        /// The key.
        key: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A `file://` object store root that only ever creates objects.
#[derive(Debug, Clone)]
pub struct CreateOnlyDir {
    root: PathBuf,
}

impl CreateOnlyDir {
    /// The store for `url`. Only `file:///absolute/path` can be written create-only from
    /// here: `gs://` needs `if_generation_match(0)` on the upload, which `shared` does not
    /// expose yet, and writing there without it could replace a backup.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        match url.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => Ok(Self::new(path)),
            _ => Err(StoreError::BadUrl {
                url: url.to_owned(),
                reason:
                    "create-only writes need file:///absolute/path (gs:// is not supported yet)"
                        .to_owned(),
            }),
        }
    }

    /// The store rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts writing `key`: validates it, refuses early if it exists (the link in
    /// [`PendingObject::commit`] is what decides; this only saves a wasted dump), and opens
    /// a fresh temporary file beside it.
    pub async fn begin(&self, key: &str) -> Result<PendingObject, CreateError> {
        validate_key(key)?;
        let path = self.root.join(key);
        let io = |source| CreateError::Io {
            key: key.to_owned(),
            source,
        };
        if tokio::fs::try_exists(&path).await.map_err(io)? {
            return Err(CreateError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        let dir = path.parent().expect("a key path has a parent: the root");
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
        let temp = dir.join(format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await
            .map_err(io)?;
        Ok(PendingObject {
            key: key.to_owned(),
            file,
            temp,
            path,
            committed: false,
        })
    }

    /// Writes everything `reader` yields under `key`, only if `key` is absent. On any error
    /// nothing is left under `key`. Returns the number of bytes written.
    pub async fn create_from<R: AsyncRead + Unpin>(
        &self,
        key: &str,
        reader: &mut R,
    ) -> Result<u64, CreateError> {
        let mut pending = self.begin(key).await?;
        let written = tokio::io::copy(reader, &mut pending)
            .await
            .map_err(|source| CreateError::Io {
                key: key.to_owned(),
                source,
            })?;
        pending.commit().await?;
        Ok(written)
    }
}

/// An object being written: bytes go to a temporary file until [`PendingObject::commit`].
/// Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct PendingObject {
    key: String,
    file: tokio::fs::File,
    temp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl PendingObject {
    /// Makes the object visible under its key, unless one appeared there meanwhile (another
    /// replica, a redelivery): then this one is discarded and the other left untouched.
    pub async fn commit(mut self) -> Result<(), CreateError> {
        let io = |source| CreateError::Io {
            key: self.key.clone(),
            source,
        };
        self.file.flush().await.map_err(io)?;
        self.file.sync_all().await.map_err(io)?;
        // No-replace: link(2) fails on an existing name, where rename(2) would replace it.
        match tokio::fs::hard_link(&self.temp, &self.path).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(CreateError::AlreadyExists {
                    key: self.key.clone(),
                })
            }
            Err(e) => return Err(io(e)),
        }
        self.committed = true;
        // The object is complete under its key already; a leftover temp name is only litter.
        let _ = tokio::fs::remove_file(&self.temp).await;
        if let Some(dir) = self.path.parent() {
            // The link must survive a power cut, not only the bytes.
            let dir = tokio::fs::File::open(dir).await.map_err(io)?;
            dir.sync_all().await.map_err(io)?;
        }
        Ok(())
    }
}

impl Drop for PendingObject {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a crash skips this, and the temp name is invisible to readers.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl AsyncWrite for PendingObject {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.file).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_shutdown(cx)
    }
}

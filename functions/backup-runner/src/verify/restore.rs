//! Streaming an archive into `pg_restore`, checksummed on the way against the manifest.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin};

use super::{discover_pg_restores, select_pg_restore, VerifyError};
use crate::dump::{
    last_line, libpq_command, pg_dump_major, read_tail, PgDump, StreamHasher, StreamSummary,
    Target, CHUNK,
};
use crate::manifest::Manifest;

/// What the archive must be, from its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// sha256, lowercase hex.
    pub sha256_hex: String,
    /// crc32c.
    pub crc32c: u32,
    /// Size in bytes.
    pub size: u64,
    /// Major version of the `pg_dump` that wrote it (0 when unknown: any pg_restore).
    pub pg_dump_major: u32,
}

impl Expected {
    /// The archive `manifest` describes.
    pub fn from_manifest(manifest: &Manifest) -> Self {
        Self {
            sha256_hex: manifest.sha256.clone(),
            crc32c: manifest.crc32c,
            size: manifest.size,
            pg_dump_major: pg_dump_major(&manifest.pg_dump_version).unwrap_or(0),
        }
    }

    /// The first way `found` differs from this, size first (the plainest reason).
    fn check(&self, found: &StreamSummary) -> Result<(), VerifyError> {
        let differs = |what, expected: String, found: String| {
            if expected == found {
                Ok(())
            } else {
                Err(VerifyError::Mismatch {
                    what,
                    expected,
                    found,
                })
            }
        };
        differs("size", self.size.to_string(), found.size.to_string())?;
        differs("sha256", self.sha256_hex.clone(), found.sha256_hex.clone())?;
        differs("crc32c", self.crc32c.to_string(), found.crc32c.to_string())
    }
}

/// One restore that completed: what was read and the tool that restored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Checksums and size of the archive read (equal to the expected ones).
    pub summary: StreamSummary,
    /// `pg_restore --version` of the binary used.
    pub pg_restore_version: String,
}

/// Restores `archive` into the existing database `into` with the newest installed
/// `pg_restore` (`configured` first) able to read it. See [`run_pg_restore`].
pub async fn restore_archive<R: AsyncRead + Unpin>(
    archive: R,
    into: &Target,
    pg_restore: Option<&Path>,
    expected: &Expected,
) -> Result<RestoreReport, VerifyError> {
    let installed = discover_pg_restores(pg_restore).await;
    let tool = select_pg_restore(&installed, expected.pg_dump_major)?;
    let summary = run_pg_restore(&tool, archive, into, expected).await?;
    Ok(RestoreReport {
        summary,
        pg_restore_version: tool.version,
    })
}

/// Streams `archive` into `pg_restore --single-transaction` on `into`, hashing every byte.
///
/// The archive is checked against `expected` once it has been read and before pg_restore
/// sees its end: on a mismatch pg_restore is killed, so its transaction never commits. The
/// connection goes through libpq's environment, so no password is on a command line.
/// On any error the caller should treat `into` as garbage: pg_restore may have committed
/// before reading trailing bytes that then failed the check.
pub async fn run_pg_restore<R: AsyncRead + Unpin>(
    tool: &PgDump,
    mut archive: R,
    into: &Target,
    expected: &Expected,
) -> Result<StreamSummary, VerifyError> {
    let mut child = spawn(tool, into)?;
    let (Some(mut stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
        return Err(VerifyError::Spawn(std::io::Error::other(
            "pg_restore pipes missing",
        )));
    };
    // Drained concurrently: a pg_restore blocked on a full stderr pipe would stop reading.
    let stderr_tail = tokio::spawn(read_tail(stderr));
    let fed = feed(&mut archive, &mut stdin).await;
    let checked = fed.and_then(|summary| expected.check(&summary).map(|()| summary));
    let summary = match checked {
        Ok(summary) => summary,
        Err(error) => {
            // Killed (and reaped) before stdin is dropped: pg_restore must never see the
            // end of an unread or mismatched archive, or it could commit it. A kill that
            // fails means it has exited already.
            let _ = child.kill().await;
            return Err(error);
        }
    };
    // Only now may pg_restore see the end of its input and commit.
    drop(stdin);
    let status = child.wait().await.map_err(VerifyError::Spawn)?;
    let stderr = stderr_tail.await.unwrap_or_default();
    if !status.success() {
        return Err(VerifyError::PgRestoreFailed {
            status,
            last_line: last_line(&stderr, into),
        });
    }
    Ok(summary)
}

fn spawn(tool: &PgDump, into: &Target) -> Result<Child, VerifyError> {
    libpq_command(&tool.path, into)
        .args([
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--no-password",
            // A URI carrying nothing: every setting comes from the PG* variables, so a
            // database name can never be read as a connection string.
            "--dbname=postgresql://",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(VerifyError::Spawn)
}

/// Copies the whole archive to pg_restore's stdin in fixed chunks, hashing all of it. If
/// pg_restore stops reading (it failed, or it needs no more), the rest is still read and
/// hashed: the checksums must describe the whole archive.
async fn feed<R: AsyncRead + Unpin>(
    archive: &mut R,
    stdin: &mut ChildStdin,
) -> Result<StreamSummary, VerifyError> {
    let mut buffer = vec![0u8; CHUNK];
    let mut hasher = StreamHasher::default();
    let mut restore_reading = true;
    loop {
        let read = archive
            .read(&mut buffer)
            .await
            .map_err(VerifyError::ReadArchive)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        if restore_reading {
            match stdin.write_all(&buffer[..read]).await {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                    restore_reading = false;
                }
                Err(error) => return Err(VerifyError::Spawn(error)),
            }
        }
    }
    if restore_reading {
        // A pg_restore that already exited is judged by its status, not by this flush.
        let _ = stdin.flush().await;
    }
    Ok(hasher.finish())
}

//! Running `pg_dump` and streaming its archive to a sink, checksummed on the way.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{DumpError, PgDump, Target};

/// The chunk size: memory stays bounded whatever the database's size.
pub(crate) const CHUNK: usize = 64 * 1024;
/// How much of pg_dump's stderr is kept (its tail holds the error).
const STDERR_TAIL: usize = 8 * 1024;
/// The first bytes of every custom-format archive.
const ARCHIVE_MAGIC: &[u8] = b"PGDMP";

/// One finished dump: what the sink received and the snapshot it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpReport {
    /// sha256 of the archive, lowercase hex.
    pub sha256_hex: String,
    /// crc32c of the archive (what Cloud Storage checks on upload).
    pub crc32c: u32,
    /// The archive's size in bytes.
    pub size: u64,
    /// `pg_dump --version` of the binary that made it.
    pub pg_dump_version: String,
    /// The server's `server_version_num`.
    pub server_version: u32,
    /// Exact rows per table (`schema.table`, quoted as `%I.%I`) in the dumped snapshot.
    pub row_counts: BTreeMap<String, i64>,
}

/// The checksums and size of the bytes written to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    /// sha256, lowercase hex.
    pub sha256_hex: String,
    /// crc32c.
    pub crc32c: u32,
    /// Bytes written.
    pub size: u64,
}

/// Runs `pg_dump -Fc --snapshot=<snapshot_id>` on `target` and writes its archive to `sink`.
/// The connection goes through libpq's environment so no password is on a command line.
pub async fn run_pg_dump<W: AsyncWrite + Unpin>(
    pg_dump: &PgDump,
    target: &Target,
    snapshot_id: &str,
    sink: &mut W,
) -> Result<StreamSummary, DumpError> {
    let mut command = libpq_command(&pg_dump.path, target);
    command
        .args(["--format=custom", "--no-password"])
        .arg(format!("--snapshot={snapshot_id}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut child = command.spawn().map_err(DumpError::Spawn)?;
    let (Some(mut stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(DumpError::Spawn(std::io::Error::other(
            "pg_dump pipes missing",
        )));
    };
    // Drained concurrently: a pg_dump blocked on a full stderr pipe would never finish stdout.
    let stderr_tail = tokio::spawn(read_tail(stderr));
    let summary = copy_hashed(&mut stdout, sink).await?;
    let status = child.wait().await.map_err(DumpError::Spawn)?;
    let stderr = stderr_tail.await.unwrap_or_default();
    if !status.success() {
        return Err(DumpError::PgDumpFailed {
            status,
            last_line: last_line(&stderr, target),
        });
    }
    summary
}

/// A command running the PostgreSQL client `program` (pg_dump, pg_restore) against
/// `target` through libpq's environment only, so no password is on a command line; its
/// stderr piped for the error line, killed if dropped before it exits.
pub(crate) fn libpq_command(program: &Path, target: &Target) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command
        // Inherited libpq settings (a service file, a password file) must not redirect it.
        .env_remove("PGSERVICE")
        .env_remove("PGPASSFILE")
        .env_remove("PGPASSWORD")
        .envs(target.libpq_env())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Copies `source` to `sink` in fixed chunks, hashing as it goes. The header check's
/// result is returned inside so a failed pg_dump reports its own error first.
pub(crate) async fn copy_hashed<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    source: &mut R,
    sink: &mut W,
) -> Result<Result<StreamSummary, DumpError>, DumpError> {
    let mut buffer = vec![0u8; CHUNK];
    let mut hasher = StreamHasher::default();
    let mut header = Vec::with_capacity(ARCHIVE_MAGIC.len());
    loop {
        let read = source.read(&mut buffer).await.map_err(DumpError::Spawn)?;
        if read == 0 {
            break;
        }
        let chunk = &buffer[..read];
        let missing = ARCHIVE_MAGIC.len() - header.len();
        header.extend_from_slice(&chunk[..read.min(missing)]);
        hasher.update(chunk);
        sink.write_all(chunk).await.map_err(DumpError::Sink)?;
    }
    sink.flush().await.map_err(DumpError::Sink)?;
    if header != ARCHIVE_MAGIC {
        return Ok(Err(DumpError::NotAnArchive));
    }
    Ok(Ok(hasher.finish()))
}

/// Reads `source` to its end, returning its checksums and size (any bytes, not only
/// archives: a managed export is checked the same way).
pub async fn hash_stream<R: AsyncRead + Unpin>(source: &mut R) -> std::io::Result<StreamSummary> {
    let mut buffer = vec![0u8; CHUNK];
    let mut hasher = StreamHasher::default();
    loop {
        let read = source.read(&mut buffer).await?;
        if read == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buffer[..read]);
    }
}

/// sha256, crc32c and size of a stream fed chunk by chunk, shared by the dump (bytes out of
/// pg_dump) and the restore (bytes into pg_restore) so both compute them the same way.
#[derive(Default)]
pub(crate) struct StreamHasher {
    sha256: Sha256,
    crc32c: u32,
    size: u64,
}

impl StreamHasher {
    /// Adds the next chunk.
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.sha256.update(chunk);
        self.crc32c = crc32c::crc32c_append(self.crc32c, chunk);
        self.size += chunk.len() as u64;
    }

    /// The checksums and size of everything fed.
    pub(crate) fn finish(self) -> StreamSummary {
        StreamSummary {
            sha256_hex: format!("{:x}", self.sha256.finalize()),
            crc32c: self.crc32c,
            size: self.size,
        }
    }
}

/// Reads a stream to its end, keeping only its last `STDERR_TAIL` bytes.
pub(crate) async fn read_tail<R: AsyncRead + Unpin>(mut source: R) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut buffer = [0u8; 1024];
    while let Ok(read @ 1..) = source.read(&mut buffer).await {
        tail.extend_from_slice(&buffer[..read]);
        if tail.len() > STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
    }
    tail
}

/// The last error line of stderr (else its last non-empty line), with the password masked
/// should libpq ever echo it. pg_restore's stderr has the same shape as pg_dump's.
pub(crate) fn last_line(stderr: &[u8], target: &Target) -> String {
    let text = String::from_utf8_lossy(stderr);
    // pg_dump and pg_restore follow their error with "detail: Query was: …"; the error line says why.
    let mut lines = text.lines().rev().filter(|line| !line.trim().is_empty());
    let line = lines
        .clone()
        .find(|line| line.contains("error:"))
        .or_else(|| lines.next())
        .unwrap_or("(no output)")
        .trim()
        .to_owned();
    match &target.password {
        Some(password) if !password.expose_secret().is_empty() => {
            line.replace(password.expose_secret(), "********")
        }
        _ => line,
    }
}

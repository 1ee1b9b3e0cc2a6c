//! Streaming a gzipped SQL export through `psql` into a scratch database: gunzipped on the
//! way, memory bounded (one chunk in flight, a bounded prefix per line), no temporary file.
//!
//! psql runs with `ON_ERROR_STOP` off and `VERBOSITY=sqlstate` so that every error arrives
//! as a SQLSTATE and a line, and [`super::stderr::judge`] decides; the first error it does
//! not tolerate stops the import at once (psql is killed). The export is hostile input as
//! far as psql is concerned: a line such as `\! cmd` or `\connect postgres` would run on
//! this machine or reach past the scratch database. So the stream starts with our own
//! `\restrict KEY` (a fresh random key): psql then refuses every meta-command the export
//! holds.

use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_compression::tokio::bufread::GzipDecoder;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};
use tokio::process::{ChildStderr, ChildStdin};

use super::lines::SqlLines;
use super::stderr::{judge, Verdict};
use super::ImportError;
use crate::dump::{last_line, libpq_command, PgDump, Target, CHUNK};

/// The longest stderr line kept; psql's lines with `VERBOSITY=sqlstate` are far shorter.
const STDERR_LINE_MAX: usize = 1024;

/// How psql's run ended when the export was at fault: why, for a person.
pub(super) type ExportFault = String;

/// Imports the gzipped SQL `object` into `into` with `tool`. `Ok(Ok(n))`: imported, `n`
/// ownership or privilege statements skipped; `Ok(Err(reason))`: the export does not
/// import; `Err`: the import could not be tried (see [`ImportError::is_retryable`]).
pub(super) async fn run_psql<R: AsyncRead + Unpin>(
    tool: &PgDump,
    object: R,
    into: &Target,
) -> Result<Result<u64, ExportFault>, ImportError> {
    let mut child = libpq_command(&tool.path, into)
        .args([
            "--no-psqlrc",
            "--quiet",
            "--no-password",
            "--set=ON_ERROR_STOP=0",
            "--set=VERBOSITY=sqlstate",
            "--set=SHOW_CONTEXT=never",
            "--file=-",
            // Every setting comes from the PG* variables, as for pg_restore.
            "--dbname=postgresql://",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(ImportError::Spawn)?;
    let (Some(stdin), Some(stderr)) = (child.stdin.take(), child.stderr.take()) else {
        return Err(ImportError::Spawn(std::io::Error::other(
            "psql pipes missing",
        )));
    };
    let lines = Arc::new(Mutex::new(SqlLines::default()));
    let mut judging = tokio::spawn(judge_stderr(stderr, Arc::clone(&lines)));
    let feeding = feed(object, stdin, &lines);
    tokio::pin!(feeding);
    let (fed, judged) = tokio::select! {
        judged = &mut judging => match judged {
            // Stop at the first error that fails the import: the rest cannot change that.
            Ok(Judged { fatal: Some(reason), .. }) => {
                let _ = child.kill().await;
                return Ok(Err(mask(&reason, into)));
            }
            judged => (feeding.await, judged),
        },
        fed = &mut feeding => (fed, judging.await),
    };
    if let Err(error) = fed {
        let _ = child.kill().await;
        return match error {
            Feed::Gzip(e) => Ok(Err(format!(
                "the export is not a complete gzip stream ({e}): truncated or corrupted"
            ))),
            Feed::Store(e) => Err(ImportError::ReadExport(e)),
            Feed::Pipe(e) => Err(ImportError::Spawn(e)),
        };
    }
    let status = child.wait().await.map_err(ImportError::Spawn)?;
    let judged = judged.map_err(|e| ImportError::Spawn(std::io::Error::other(e)))?;
    match (judged.fatal, status.success()) {
        (Some(reason), _) => Ok(Err(mask(&reason, into))),
        (None, true) => Ok(Ok(judged.tolerated)),
        (None, false) => Ok(Err(format!("psql exited with {status}"))),
    }
}

/// What psql's stderr said: the first error that fails the import, or how many role
/// statements were skipped.
#[derive(Debug, Default)]
struct Judged {
    tolerated: u64,
    fatal: Option<String>,
}

/// Reads stderr line by line (each cut to [`STDERR_LINE_MAX`]) until the first fatal line
/// or its end.
async fn judge_stderr(mut stderr: ChildStderr, lines: Arc<Mutex<SqlLines>>) -> Judged {
    let mut judged = Judged::default();
    let mut buffer = [0u8; 1024];
    let mut line = Vec::new();
    let verdict_of = |line: &[u8], judged: &mut Judged| {
        let text = String::from_utf8_lossy(line);
        // A poisoned lock only means the feeder panicked; what it recorded stands.
        let lines = lines.lock().unwrap_or_else(|p| p.into_inner());
        match judge(text.trim_end(), &lines) {
            Verdict::Harmless | Verdict::ExportGuard => {}
            Verdict::Tolerated => judged.tolerated += 1,
            Verdict::Fatal(reason) => judged.fatal = Some(reason),
        }
    };
    while let Ok(read @ 1..) = stderr.read(&mut buffer).await {
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                verdict_of(&line, &mut judged);
                line.clear();
                if judged.fatal.is_some() {
                    return judged;
                }
            } else if line.len() < STDERR_LINE_MAX {
                line.push(byte);
            }
        }
    }
    if !line.is_empty() && judged.fatal.is_none() {
        verdict_of(&line, &mut judged);
    }
    judged
}

/// Why feeding stopped short.
enum Feed {
    /// The object could not be read from the store (worth a retry).
    Store(std::io::Error),
    /// The bytes read are not a complete gzip stream (the export's fault).
    Gzip(std::io::Error),
    /// psql's stdin failed other than by psql having exited.
    Pipe(std::io::Error),
}

/// Writes our `\restrict` line, then the gunzipped export, classifying its lines on the way.
async fn feed<R: AsyncRead + Unpin>(
    object: R,
    mut stdin: ChildStdin,
    lines: &Mutex<SqlLines>,
) -> Result<(), Feed> {
    let key = uuid::Uuid::new_v4().simple().to_string();
    let guard = format!("\\restrict {key}\n");
    let mut sql = GzipDecoder::new(BufReader::with_capacity(CHUNK, StoreRead(object)));
    // Cloud SQL writes one gzip member; concatenated members are still one valid file.
    sql.multiple_members(true);
    let mut buffer = vec![0u8; CHUNK];
    let mut pending: &[u8] = guard.as_bytes();
    loop {
        // Classified before psql can read it, so psql never reports a line not yet seen.
        lock(lines).update(pending);
        match stdin.write_all(pending).await {
            Ok(()) => {}
            // psql exited: its status and stderr say why.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Feed::Pipe(e)),
        }
        let read = sql.read(&mut buffer).await.map_err(|e| {
            match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<StoreError>())
            {
                Some(_) => Feed::Store(e),
                None => Feed::Gzip(e),
            }
        })?;
        if read == 0 {
            break;
        }
        pending = &buffer[..read];
    }
    lock(lines).finish();
    // A psql that already exited is judged by its status, not by this flush.
    let _ = stdin.flush().await;
    Ok(())
}

fn lock(lines: &Mutex<SqlLines>) -> std::sync::MutexGuard<'_, SqlLines> {
    lines.lock().unwrap_or_else(|p| p.into_inner())
}

/// `reason` with the target's password masked, should psql ever echo it.
fn mask(reason: &str, into: &Target) -> String {
    last_line(reason.as_bytes(), into)
}

/// Marks the store's read errors, so that once they have passed through the gzip decoder
/// they are told apart from the decoder's own (a retry, not a bad export).
struct StoreRead<R>(R);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct StoreError(std::io::Error);

impl<R: AsyncRead + Unpin> AsyncRead for StoreRead<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0)
            .poll_read(cx, buf)
            .map_err(|e| std::io::Error::other(StoreError(e)))
    }
}

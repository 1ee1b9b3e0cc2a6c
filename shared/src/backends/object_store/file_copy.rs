//! Copying a stream into a file that will be fsynced when complete, with the disk kept busy
//! on the way: without it, every page of a large object is still dirty when it is closed,
//! and the final fsync stalls the writer for as long as the whole object takes to reach the
//! disk (a backup's last seconds, after its dump has already finished).

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ByteReader;

/// Read size: large enough that a file written through tokio's blocking pool costs a few
/// hops per megabyte, not one per 8 KiB.
const CHUNK: usize = 256 * 1024;
/// Bytes between two background flushes.
const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;

/// Copies `reader` into `file`, starting a background `fdatasync` every
/// [`WRITEBACK_EVERY`] bytes (at most one at a time), and returns the bytes copied once the
/// last of those flushes has ended. The caller still syncs the file: this only makes that
/// sync short.
pub(super) async fn copy_with_writeback(
    reader: &mut ByteReader,
    file: &mut tokio::fs::File,
) -> std::io::Result<u64> {
    let mut buffer = vec![0u8; CHUNK];
    let (mut copied, mut since_flush) = (0u64, 0u64);
    let mut flushing: Option<tokio::task::JoinHandle<std::io::Result<()>>> = None;
    loop {
        let read = reader.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        file.write_all(&buffer[..read]).await?;
        copied += read as u64;
        since_flush += read as u64;
        let idle = flushing.as_ref().is_none_or(|f| f.is_finished());
        if since_flush >= WRITEBACK_EVERY && idle {
            if let Some(done) = flushing.take() {
                done.await.map_err(std::io::Error::other)??;
            }
            // The bytes tokio still holds go to the OS first; the clone shares the open
            // file, so its fdatasync covers everything written so far.
            file.flush().await?;
            let clone = file.try_clone().await?;
            flushing = Some(tokio::spawn(async move { clone.sync_data().await }));
            since_flush = 0;
        }
    }
    // A flush's error is reported to the descriptor that asked for it, and the clone shares
    // this file's: it must fail the write here, the final sync would not see it again.
    if let Some(done) = flushing {
        done.await.map_err(std::io::Error::other)??;
    }
    Ok(copied)
}

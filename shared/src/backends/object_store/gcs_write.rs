//! Streaming uploads to Cloud Storage, generic over the client's stub so the create-only
//! precondition can be checked against the exact request (fake-gcs-server ignores it).

use bytes::{Bytes, BytesMut};
use google_cloud_storage::client::Storage;
use google_cloud_storage::streaming_source::StreamingSource;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;

use super::gcs::fail;
use super::{ByteReader, StoreError};

/// Chunk size for streaming uploads: big enough for few round trips, small enough to keep
/// memory flat while a dump of many gigabytes streams through.
pub(super) const CHUNK: usize = 1024 * 1024;

/// Chunks read ahead of the client. The client reads its source only between requests, and
/// each request sends 8 MiB and waits for the answer: without a read-ahead the writer behind
/// the reader (a `pg_dump`) would stop for every round trip. 8 MiB covers one request in
/// flight, and bounds the memory it costs.
pub(super) const READ_AHEAD_CHUNKS: usize = 8;

/// Streams `reader` to `object` in `bucket_path`; `create_only` makes Cloud Storage itself
/// refuse the write when any live object exists there (precondition `ifGenerationMatch=0`),
/// so the check cannot race with another replica. `key` names the object in errors.
pub(super) async fn upload<S>(
    storage: &Storage<S>,
    (bucket_path, object): (String, String),
    key: &str,
    reader: ByteReader,
    content_type: &str,
    create_only: bool,
) -> Result<u64, StoreError>
where
    S: google_cloud_storage::stub::Storage + 'static,
{
    let source = ReaderSource::start(reader);
    let mut write = storage
        .write_object(bucket_path, object, source)
        .set_content_type(content_type);
    if create_only {
        write = write.set_if_generation_match(0);
    }
    let object = write.send_buffered().await.map_err(|e| {
        if create_only && is_precondition_failed(&e) {
            StoreError::AlreadyExists {
                key: key.to_owned(),
            }
        } else {
            fail(key, e)
        }
    })?;
    u64::try_from(object.size).map_err(|e| fail(key, e))
}

/// 412 over HTTP, FAILED_PRECONDITION over gRPC: both mean "an object is already there".
fn is_precondition_failed(error: &google_cloud_storage::Error) -> bool {
    use google_cloud_gax::error::rpc::Code;
    error.http_status_code() == Some(412)
        || error
            .status()
            .is_some_and(|s| s.code == Code::FailedPrecondition)
}

/// Feeds an `AsyncRead` to the client in chunks, read by a task of its own so that reading
/// goes on while the client waits for an answer ([`READ_AHEAD_CHUNKS`]). Dropping the source
/// (the upload finished or was abandoned) stops the task.
pub(super) struct ReaderSource {
    chunks: mpsc::Receiver<std::io::Result<Bytes>>,
    _reading: AbortOnDropHandle<()>,
}

impl ReaderSource {
    pub(super) fn start(reader: ByteReader) -> Self {
        let (sender, chunks) = mpsc::channel(READ_AHEAD_CHUNKS);
        let reading = tokio::spawn(read_ahead(reader, sender));
        Self {
            chunks,
            _reading: AbortOnDropHandle::new(reading),
        }
    }
}

impl StreamingSource for ReaderSource {
    type Error = std::io::Error;

    async fn next(&mut self) -> Option<Result<Bytes, Self::Error>> {
        // After the end (or an error) the channel is closed and stays so: the client may ask
        // again after the last chunk.
        self.chunks.recv().await
    }
}

/// Reads `reader` chunk by chunk into `chunks` until its end or its first error, which is
/// passed on as the last item.
async fn read_ahead(mut reader: ByteReader, chunks: mpsc::Sender<std::io::Result<Bytes>>) {
    loop {
        let chunk = match read_chunk(&mut reader).await {
            Ok(Some(chunk)) => Ok(chunk),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if chunks.send(chunk).await.is_err() || failed {
            return; // the upload is gone, or this was the end
        }
    }
}

/// One chunk of up to [`CHUNK`] bytes; `None` at the end.
async fn read_chunk(reader: &mut ByteReader) -> std::io::Result<Option<Bytes>> {
    let mut buffer = BytesMut::zeroed(CHUNK);
    let mut filled = 0;
    // Fill whole chunks: the resumable protocol sends in 256 KiB multiples.
    while filled < CHUNK {
        match reader.read(&mut buffer[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    if filled == 0 {
        return Ok(None);
    }
    buffer.truncate(filled);
    Ok(Some(buffer.freeze()))
}

//! Streaming uploads to Cloud Storage, generic over the client's stub so the create-only
//! precondition can be checked against the exact request (fake-gcs-server ignores it).

use bytes::{Bytes, BytesMut};
use google_cloud_storage::client::Storage;
use google_cloud_storage::streaming_source::StreamingSource;
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;

use super::gcs::fail;
use super::{ByteReader, StoreError};

/// Chunk size for streaming uploads: big enough for few round trips, small enough to keep
/// memory flat while a dump of many gigabytes streams through.
const CHUNK: usize = 1024 * 1024;

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
    let source = ReaderSource {
        reader: Mutex::new(reader),
    };
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

/// Feeds an `AsyncRead` to the client in chunks. The reader sits behind a mutex only
/// because the client wants a `Sync` source; there is never contention.
struct ReaderSource {
    reader: Mutex<ByteReader>,
}

impl StreamingSource for ReaderSource {
    type Error = std::io::Error;

    async fn next(&mut self) -> Option<Result<Bytes, Self::Error>> {
        let mut buffer = BytesMut::zeroed(CHUNK);
        let mut filled = 0;
        let reader = self.reader.get_mut();
        // Fill whole chunks: the resumable protocol sends in 256 KiB multiples.
        while filled < CHUNK {
            match reader.read(&mut buffer[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Some(Err(e)),
            }
        }
        if filled == 0 {
            return None;
        }
        buffer.truncate(filled);
        Some(Ok(buffer.freeze()))
    }
}

//! Streaming downloads from Cloud Storage: the client's chunks adapted to an `AsyncRead`,
//! so a multi-gigabyte dump is verified or restored with memory bounded by one chunk.

use std::io;

use google_cloud_storage::client::Storage;
use google_cloud_storage::read_object::ReadObjectResponse;
use tokio_util::io::StreamReader;

use super::gcs::fail;
use super::{ByteReader, StoreError};

/// The bytes of `object` in `bucket_path` as a reader, or `None` when there is no such
/// object. `key` names the object in errors.
///
/// A failure after the first byte (the client has already tried to resume the download)
/// surfaces as an `io::Error` from the reader, never as an early end of data; the client
/// also checks the whole object's checksum at the end.
pub(super) async fn open<S>(
    storage: &Storage<S>,
    (bucket_path, object): (String, String),
    key: &str,
) -> Result<Option<ByteReader>, StoreError>
where
    S: google_cloud_storage::stub::Storage + 'static,
{
    let response = match storage.read_object(bucket_path, object).send().await {
        Ok(response) => response,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(fail(key, e)),
    };
    let chunks = futures::stream::unfold(response, |mut response: ReadObjectResponse| async {
        let chunk = response.next().await?.map_err(io::Error::other);
        Some((chunk, response))
    });
    Ok(Some(Box::new(StreamReader::new(Box::pin(chunks)))))
}

/// 404 over HTTP, NOT_FOUND over gRPC.
fn is_not_found(error: &google_cloud_storage::Error) -> bool {
    use google_cloud_gax::error::rpc::Code;
    error.http_status_code() == Some(404)
        || error.status().is_some_and(|s| s.code == Code::NotFound)
}

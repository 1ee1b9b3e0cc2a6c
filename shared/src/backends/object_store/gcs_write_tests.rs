//! The create-only write against the client's stub trait: fake-gcs-server ignores
//! `ifGenerationMatch`, so the exact request and the refusal are checked here instead.

use std::sync::Mutex as StdMutex;

use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_storage::client::Storage;
use google_cloud_storage::model::Object;
use google_cloud_storage::model_ext::WriteObjectRequest;
use google_cloud_storage::request_options::RequestOptions;
use google_cloud_storage::streaming_source::StreamingSource;
use google_cloud_storage::Error;

use super::gcs_write::upload;
use super::{ByteReader, StoreError};

/// Records every write request, drains its payload, then gives `answer`'s reply.
#[derive(Debug)]
struct Recorder {
    requests: StdMutex<Vec<WriteObjectRequest>>,
    answer: fn() -> Result<(), Error>,
}

impl google_cloud_storage::stub::Storage for Recorder {
    async fn write_object_buffered<P>(
        &self,
        mut payload: P,
        req: WriteObjectRequest,
        _options: RequestOptions,
    ) -> google_cloud_storage::Result<Object>
    where
        P: StreamingSource + Send + Sync + 'static,
    {
        self.requests.lock().expect("lock").push(req);
        let mut size = 0;
        while let Some(chunk) = payload.next().await {
            size += chunk.map_err(Error::ser)?.len() as i64;
        }
        (self.answer)().map(|()| Object::new().set_size(size))
    }
}

fn write(key: &'static [u8]) -> ByteReader {
    Box::new(std::io::Cursor::new(key))
}

/// `upload` of `b"first"` to `backups/db.dump` through a stub answering `answer`: the
/// result and the one request the client sent.
async fn upload_via_stub(
    answer: fn() -> Result<(), Error>,
    create_only: bool,
) -> (Result<u64, StoreError>, WriteObjectRequest) {
    let stub = std::sync::Arc::new(Recorder {
        requests: StdMutex::new(Vec::new()),
        answer,
    });
    let storage = Storage::<Recorder>::from_stub(stub.clone());
    let location = (
        "projects/_/buckets/b".to_owned(),
        "env/backups/db.dump".to_owned(),
    );
    let result = upload(
        &storage,
        location,
        "backups/db.dump",
        write(b"first"),
        "application/gzip",
        create_only,
    )
    .await;
    let mut requests = std::mem::take(&mut *stub.requests.lock().expect("lock"));
    assert_eq!(requests.len(), 1, "{requests:?}");
    (result, requests.remove(0))
}

fn precondition_failed_grpc() -> Result<(), Error> {
    Err(Error::service(
        Status::default()
            .set_code(Code::FailedPrecondition)
            .set_message("At least one of the pre-conditions you specified did not hold."),
    ))
}

fn precondition_failed_http() -> Result<(), Error> {
    Err(Error::http(412, Default::default(), Default::default()))
}

fn permission_denied() -> Result<(), Error> {
    Err(Error::service(
        Status::default().set_code(Code::PermissionDenied),
    ))
}

#[tokio::test]
async fn create_only_upload_asks_for_generation_zero() {
    let (result, request) = upload_via_stub(|| Ok(()), true).await;
    assert_eq!(result.expect("upload"), 5);
    assert_eq!(request.spec.if_generation_match, Some(0));
    let object = request.spec.resource.expect("object resource");
    assert_eq!(object.bucket, "projects/_/buckets/b");
    assert_eq!(object.name, "env/backups/db.dump");
    assert_eq!(object.content_type, "application/gzip");
}

#[tokio::test]
async fn plain_upload_sets_no_precondition() {
    let (result, request) = upload_via_stub(|| Ok(()), false).await;
    assert_eq!(result.expect("upload"), 5);
    assert_eq!(request.spec.if_generation_match, None);
}

#[tokio::test]
async fn a_failed_precondition_is_already_exists() {
    for answer in [precondition_failed_grpc, precondition_failed_http] {
        let (result, _) = upload_via_stub(answer, true).await;
        let err = result.expect_err("refused");
        assert!(
            matches!(&err, StoreError::AlreadyExists { key } if key == "backups/db.dump"),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn other_failures_stay_backend_errors() {
    // Another refusal under create-only, and a precondition failure of a write that set none.
    for (answer, create_only) in [
        (permission_denied as fn() -> Result<(), Error>, true),
        (precondition_failed_grpc, false),
    ] {
        let (result, _) = upload_via_stub(answer, create_only).await;
        let err = result.expect_err("fails");
        assert!(
            matches!(err, StoreError::Backend { backend: "gcs", .. }),
            "{err:?}"
        );
    }
}

/// A client in the middle of a request: it has taken the first chunk and sends nothing more
/// until `sent` is notified, then drains the rest.
#[derive(Debug, Default)]
struct SlowRequest {
    in_flight: tokio::sync::Notify,
    sent: tokio::sync::Notify,
}

impl google_cloud_storage::stub::Storage for SlowRequest {
    async fn write_object_buffered<P>(
        &self,
        mut payload: P,
        _req: WriteObjectRequest,
        _options: RequestOptions,
    ) -> google_cloud_storage::Result<Object>
    where
        P: StreamingSource + Send + Sync + 'static,
    {
        let mut size = 0;
        if let Some(chunk) = payload.next().await {
            size += chunk.map_err(Error::ser)?.len() as i64;
        }
        self.in_flight.notify_one();
        self.sent.notified().await;
        while let Some(chunk) = payload.next().await {
            size += chunk.map_err(Error::ser)?.len() as i64;
        }
        Ok(Object::new().set_size(size))
    }
}

/// Writes `total` bytes into `writer` 64 KiB at a time, counting what was taken.
async fn feed(
    mut writer: tokio::io::DuplexStream,
    total: usize,
    taken: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::AsyncWriteExt as _;
    let block = vec![7u8; 64 * 1024];
    let mut written = 0;
    while written < total {
        let n = block.len().min(total - written);
        if writer.write_all(&block[..n]).await.is_err() {
            return;
        }
        written += n;
        taken.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
    }
}

/// An upload of `total` bytes from a 64 KiB pipe (as a dump's) through [`SlowRequest`]:
/// the bytes the writer got rid of while the request was in flight, then the upload's size.
async fn upload_during_a_slow_request(total: usize) -> (usize, u64) {
    use super::gcs_write::{CHUNK, READ_AHEAD_CHUNKS};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let stub = std::sync::Arc::new(SlowRequest::default());
    let storage = Storage::<SlowRequest>::from_stub(stub.clone());
    let (writer, reader) = tokio::io::duplex(64 * 1024);
    let taken = std::sync::Arc::new(AtomicUsize::new(0));
    let feeding = tokio::spawn(feed(writer, total, taken.clone()));
    let uploading = tokio::spawn(async move {
        let location = ("projects/_/buckets/b".to_owned(), "db.dump".to_owned());
        upload(&storage, location, "db.dump", Box::new(reader), "x", true).await
    });
    stub.in_flight.notified().await;
    // While the request is in flight, the writer gets rid of everything that fits in the
    // read-ahead (it never would if reading waited for the client), and no more.
    let bound = (READ_AHEAD_CHUNKS + 2) * CHUNK + 64 * 1024;
    let expected = total.min(bound - 2 * CHUNK);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while taken.load(Ordering::SeqCst) < expected && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Time for an unbounded reader to run past the bound.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let during = taken.load(Ordering::SeqCst);
    assert!(
        during <= bound,
        "read {during} bytes ahead, more than {bound}"
    );
    stub.sent.notify_one();
    feeding.await.expect("feed");
    let size = uploading.await.expect("upload task").expect("upload");
    (during, size)
}

#[tokio::test]
async fn the_writer_goes_on_while_a_request_is_in_flight() {
    let total = 6 * 1024 * 1024;
    let (during, size) = upload_during_a_slow_request(total).await;
    assert_eq!(during, total, "the writer stopped during the request");
    assert_eq!(size, total as u64);
}

#[tokio::test]
async fn the_read_ahead_is_bounded() {
    let total = 64 * 1024 * 1024;
    let (during, size) = upload_during_a_slow_request(total).await;
    assert!(during < total, "{during}");
    assert_eq!(
        size, total as u64,
        "everything arrives once the request is answered"
    );
}

#[tokio::test]
async fn a_reader_error_fails_the_upload() {
    let stub = std::sync::Arc::new(Recorder {
        requests: StdMutex::new(Vec::new()),
        answer: || Ok(()),
    });
    let storage = Storage::<Recorder>::from_stub(stub);
    let broken: ByteReader = Box::new(tokio_util::io::StreamReader::new(futures::stream::iter([
        Ok(bytes::Bytes::from_static(b"PGDMP")),
        Err(std::io::Error::other("pg_dump died")),
    ])));
    let location = ("projects/_/buckets/b".to_owned(), "db.dump".to_owned());
    let err = upload(&storage, location, "db.dump", broken, "x", true)
        .await
        .expect_err("a reader error must fail the upload");
    assert!(format!("{err:?}").contains("pg_dump died"), "{err:?}");
}

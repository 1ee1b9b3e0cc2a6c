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

//! Cloud SQL managed exports against the crate's stub traits: the exact export request,
//! polling until DONE, failures and retries, the existence check, one export per instance.

#[path = "managed_support.rs"]
mod managed_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use backup_runner::managed::{CloudSqlDatabase, CloudSqlExporter, ExportKind, ManagedError};
use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::error::Error;
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
use google_cloud_sql_v1::model::operation::SqlOperationStatus;
use google_cloud_sql_v1::model::{
    ExportContext, InstancesExportRequest, Operation, OperationError, OperationErrors, SqlFileType,
    SqlInstancesExportRequest, SqlOperationsGetRequest,
};
use managed_support::{assert_operation_failed, polling, window, FakeBucket};

const DUMP: &[u8] = b"gzipped SQL";

/// Cloud SQL as far as exports go: one operation per instance (a second is refused with
/// 409 and counted as an overlap), DONE after `polls_before_done` polls, the object written
/// into the bucket on success.
#[derive(Debug, Default)]
struct FakeCloudSql {
    bucket: Option<Arc<FakeBucket>>,
    polls_before_done: u32,
    done_with_error: Option<(&'static str, &'static str)>,
    /// How the 409 reaches the client (default: as HTTP, see [`busy_as_http`]).
    busy: Option<fn() -> Error>,
    /// Every export is refused with this error (a permission, an outage).
    refuse: Option<fn() -> Error>,
    /// Another replica's export of the same object completes first: ours then fails.
    beaten_by_another_replica: bool,
    /// DONE without an error, yet no object (a bucket lifecycle rule, a wrong grant).
    writes_nothing: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    exports: Vec<SqlInstancesExportRequest>,
    gets: Vec<SqlOperationsGetRequest>,
    /// operation name → (instance, uri, polls left)
    running: HashMap<String, (String, String, u32)>,
    overlaps: u32,
}

impl FakeCloudSql {
    fn new(bucket: &Arc<FakeBucket>, polls_before_done: u32) -> Self {
        Self {
            bucket: Some(Arc::clone(bucket)),
            polls_before_done,
            ..Self::default()
        }
    }

    fn exporter(self: &Arc<Self>, max_polls: u32) -> CloudSqlExporter {
        CloudSqlExporter::new(
            SqlInstancesService::from_stub::<Self>(Arc::clone(self)),
            SqlOperationsService::from_stub::<Self>(Arc::clone(self)),
            polling(max_polls),
        )
    }

    fn operation(name: &str, status: SqlOperationStatus) -> Operation {
        Operation::new().set_name(name).set_status(status)
    }
}

impl google_cloud_sql_v1::stub::SqlInstancesService for FakeCloudSql {
    async fn export(
        &self,
        req: SqlInstancesExportRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<Operation>> {
        let mut state = self.state.lock().expect("fake state");
        state.exports.push(req.clone());
        if let Some(refusal) = self.refuse {
            return Err(refusal());
        }
        if state.running.values().any(|(i, _, _)| *i == req.instance) {
            state.overlaps += 1;
            return Err(self.busy.unwrap_or(busy_as_http)());
        }
        let name = format!("op-{}", state.exports.len());
        let uri = req
            .body
            .and_then(|b| b.export_context)
            .expect("an export context")
            .uri;
        let entry = (req.instance, uri, self.polls_before_done);
        state.running.insert(name.clone(), entry);
        Ok(Response::from(Self::operation(
            &name,
            SqlOperationStatus::Pending,
        )))
    }
}

impl google_cloud_sql_v1::stub::SqlOperationsService for FakeCloudSql {
    async fn get(
        &self,
        req: SqlOperationsGetRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<Operation>> {
        let mut state = self.state.lock().expect("fake state");
        state.gets.push(req.clone());
        let (_, uri, polls_left) = state.running.get_mut(&req.operation).expect("known op");
        if *polls_left > 0 {
            *polls_left -= 1;
            return Ok(Response::from(Self::operation(
                &req.operation,
                SqlOperationStatus::Running,
            )));
        }
        let uri = uri.clone();
        state.running.remove(&req.operation);
        let done = Self::operation(&req.operation, SqlOperationStatus::Done);
        if self.beaten_by_another_replica {
            self.bucket
                .as_ref()
                .expect("a bucket")
                .write_uri(&uri, b"the other replica's export");
        }
        let done = match self.done_with_error {
            Some((code, message)) => done.set_error(
                OperationErrors::new()
                    .set_errors([OperationError::new().set_code(code).set_message(message)]),
            ),
            None if self.writes_nothing => done,
            None => {
                self.bucket
                    .as_ref()
                    .expect("a bucket")
                    .write_uri(&uri, DUMP);
                done
            }
        };
        Ok(Response::from(done))
    }
}

/// Cloud SQL's 409 as the HTTP transport hands it over when the body is not a `Status`.
fn busy_as_http() -> Error {
    let body = r#"{"error":{"code":409,"message":"Operation failed because another operation was already in progress.","errors":[{"domain":"global","reason":"operationInProgress"}]}}"#;
    Error::http(
        409,
        http::HeaderMap::new(),
        bytes::Bytes::from_static(body.as_bytes()),
    )
}

/// The same refusal parsed into a `Status`: no HTTP code, only the legacy reason.
fn busy_as_status() -> Error {
    let body = bytes::Bytes::from_static(
        br#"{"error":{"code":409,"message":"another operation in progress","errors":[{"domain":"global","reason":"operationInProgress"}]}}"#,
    );
    Error::service(Status::try_from(&body).expect("an error body"))
}

fn orders() -> CloudSqlDatabase {
    "acme-prod-1:main-pg:orders"
        .parse()
        .expect("a Cloud SQL database")
}

const ORDERS_KEY: &str =
    "nightly/managed/cloudsql/main-pg/orders/2026/11/27/20261127t030000z.sql.gz";

#[tokio::test]
async fn exports_with_the_exact_request_then_polls_until_done() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeCloudSql::new(&bucket, 2));
    let report = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &orders(), window())
        .await
        .expect("exported");

    let state = fake.state.lock().unwrap();
    let expected = SqlInstancesExportRequest::new()
        .set_project("acme-prod-1")
        .set_instance("main-pg")
        .set_body(
            InstancesExportRequest::new().set_export_context(
                ExportContext::new()
                    .set_uri(format!("gs://gk-exports/{ORDERS_KEY}"))
                    .set_databases(["orders"])
                    .set_file_type(SqlFileType::Sql)
                    .set_offload(true),
            ),
        );
    assert_eq!(state.exports, [expected]);
    let get = SqlOperationsGetRequest::new()
        .set_project("acme-prod-1")
        .set_operation("op-1");
    assert_eq!(
        state.gets,
        [get.clone(), get.clone(), get],
        "two RUNNING polls, then DONE"
    );
    assert_eq!(report.kind, ExportKind::CloudSql);
    assert_eq!(report.instance, "acme-prod-1:main-pg");
    assert_eq!(report.database.as_deref(), Some("orders"));
    assert_eq!(report.object_key, ORDERS_KEY);
    assert_eq!(report.size, DUMP.len() as u64);
    assert_eq!(report.operation.as_deref(), Some("op-1"));
}

#[tokio::test]
async fn done_with_an_error_is_a_failure_naming_the_error() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeCloudSql {
        done_with_error: Some(("ERROR_RDBMS", "pg_dump: permission denied for table audit")),
        ..FakeCloudSql::new(&bucket, 0)
    });
    let err = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &orders(), window())
        .await
        .unwrap_err();
    assert_operation_failed(
        &err,
        &["ERROR_RDBMS", "permission denied for table audit", "op-1"],
    );
}

#[tokio::test]
async fn an_instance_busy_with_another_operation_is_a_retry_not_a_failure() {
    for busy in [busy_as_http as fn() -> Error, busy_as_status] {
        let bucket = Arc::new(FakeBucket::new().await);
        let fake = Arc::new(FakeCloudSql {
            busy: Some(busy),
            ..FakeCloudSql::new(&bucket, 0)
        });
        // Someone else's operation (a backup, a maintenance) holds the instance.
        let foreign = ("main-pg".to_owned(), "gs://elsewhere/x".to_owned(), 100);
        fake.state
            .lock()
            .unwrap()
            .running
            .insert("theirs".into(), foreign);
        let err = (fake.exporter(10))
            .export(&bucket.store, &bucket.bucket, &orders(), window())
            .await
            .unwrap_err();
        assert!(matches!(err, ManagedError::Busy { .. }), "{err:?}");
        assert!(err.is_retryable(), "{err:?}");
        assert!(
            fake.state.lock().unwrap().gets.is_empty(),
            "nothing to poll"
        );
    }
}

#[tokio::test]
async fn an_existing_object_means_no_export_request_at_all() {
    let bucket = Arc::new(FakeBucket::new().await);
    bucket.write_uri(
        &format!("gs://gk-exports/{ORDERS_KEY}"),
        b"last night's delivery",
    );
    let fake = Arc::new(FakeCloudSql::new(&bucket, 0));
    let report = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &orders(), window())
        .await
        .expect("already done");
    let state = fake.state.lock().unwrap();
    assert!(
        state.exports.is_empty() && state.gets.is_empty(),
        "{state:?}"
    );
    assert_eq!(report.operation, None);
    assert_eq!(report.size, b"last night's delivery".len() as u64);
}

#[tokio::test]
async fn polling_is_bounded_and_a_still_running_export_is_a_retry() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeCloudSql::new(&bucket, 1_000));
    let err = (fake.exporter(3))
        .export(&bucket.store, &bucket.bucket, &orders(), window())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ManagedError::StillRunning { polls: 3, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(fake.state.lock().unwrap().gets.len(), 3);
}

#[tokio::test]
async fn concurrent_exports_of_one_instance_never_overlap() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeCloudSql::new(&bucket, 3));
    let exporter = fake.exporter(10);
    let orders = orders();
    let invoices: CloudSqlDatabase = "acme-prod-1:main-pg:invoices".parse().unwrap();
    let (a, b) = tokio::join!(
        exporter.export(&bucket.store, &bucket.bucket, &orders, window()),
        exporter.export(&bucket.store, &bucket.bucket, &invoices, window()),
    );
    a.expect("orders exported");
    b.expect("invoices exported");
    let state = fake.state.lock().unwrap();
    assert_eq!(state.overlaps, 0, "an export started while another ran");
    assert_eq!(state.exports.len(), 2);
}

#[tokio::test]
async fn an_export_beaten_by_another_replica_reports_that_replicas_object() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeCloudSql {
        beaten_by_another_replica: true,
        done_with_error: Some(("ERROR_RDBMS", "the destination file already exists")),
        ..FakeCloudSql::new(&bucket, 1)
    });
    let report = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &orders(), window())
        .await
        .expect("the window is exported, by the other replica");
    assert_eq!(report.operation, None, "our operation wrote nothing");
    assert_eq!(report.size, b"the other replica's export".len() as u64);
}

#[tokio::test]
async fn api_errors_are_retried_only_when_they_may_pass() {
    let unavailable = || Error::http(503, http::HeaderMap::new(), bytes::Bytes::new());
    let denied = || {
        let status = Status::default()
            .set_code(Code::PermissionDenied)
            .set_message("cloudsql.instances.export denied");
        Error::service(status)
    };
    for (refusal, retryable) in [(unavailable as fn() -> Error, true), (denied, false)] {
        let bucket = Arc::new(FakeBucket::new().await);
        let fake = Arc::new(FakeCloudSql {
            refuse: Some(refusal),
            ..FakeCloudSql::new(&bucket, 0)
        });
        let err = (fake.exporter(10))
            .export(&bucket.store, &bucket.bucket, &orders(), window())
            .await
            .unwrap_err();
        assert!(matches!(err, ManagedError::Api { .. }), "{err:?}");
        assert_eq!(err.is_retryable(), retryable, "{err}");
    }
}

#[tokio::test]
async fn done_without_an_object_is_a_failure_not_a_success() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeCloudSql {
        writes_nothing: true,
        ..FakeCloudSql::new(&bucket, 0)
    });
    let err = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &orders(), window())
        .await
        .unwrap_err();
    assert!(matches!(err, ManagedError::ObjectMissing { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains(ORDERS_KEY), "{err}");
}

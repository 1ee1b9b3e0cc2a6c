//! Cloud SQL managed exports against the crate's stub traits: the exact export request,
//! polling until DONE, failures and retries, the existence check, one export per instance.

#[path = "managed_cloud_sql_fake.rs"]
mod managed_cloud_sql_fake;

use std::sync::Arc;

use backup_runner::managed::{CloudSqlDatabase, ExportKind, ManagedError};
use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::error::Error;
use google_cloud_sql_v1::model::{
    ExportContext, InstancesExportRequest, SqlFileType, SqlInstancesExportRequest,
    SqlOperationsGetRequest,
};
use managed_cloud_sql_fake::managed_support::{assert_operation_failed, window, FakeBucket};
use managed_cloud_sql_fake::{busy_as_http, busy_as_status, FakeCloudSql, DUMP};

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

//! A fake Cloud SQL Admin API behind the crate's stub traits, for the managed export tests
//! (`#[path]`-included; as a test target of its own it holds no test).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use backup_runner::managed::CloudSqlExporter;
use google_cloud_gax::error::rpc::Status;
use google_cloud_gax::error::Error;
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
use google_cloud_sql_v1::model::operation::SqlOperationStatus;
use google_cloud_sql_v1::model::{
    Operation, OperationError, OperationErrors, SqlInstancesExportRequest, SqlOperationsGetRequest,
};

use managed_support::{polling, FakeBucket};

/// The shared helpers come through here, so the test and its fake use one `FakeBucket`.
#[path = "managed_support.rs"]
pub mod managed_support;

pub const DUMP: &[u8] = b"gzipped SQL";

/// Cloud SQL as far as exports go: one operation per instance (a second is refused with
/// 409 and counted as an overlap), DONE after `polls_before_done` polls, the object written
/// into the bucket on success.
#[derive(Debug, Default)]
pub struct FakeCloudSql {
    pub bucket: Option<Arc<FakeBucket>>,
    pub polls_before_done: u32,
    pub done_with_error: Option<(&'static str, &'static str)>,
    /// How the 409 reaches the client (default: as HTTP, see [`busy_as_http`]).
    pub busy: Option<fn() -> Error>,
    /// Every export is refused with this error (a permission, an outage).
    pub refuse: Option<fn() -> Error>,
    /// Another replica's export of the same object completes first: ours then fails.
    pub beaten_by_another_replica: bool,
    /// DONE without an error, yet no object (a bucket lifecycle rule, a wrong grant).
    pub writes_nothing: bool,
    /// What the export writes, instead of [`DUMP`] (a real gzipped SQL dump).
    pub contents: Option<Vec<u8>>,
    pub state: Mutex<State>,
}

#[derive(Debug, Default)]
pub struct State {
    pub exports: Vec<SqlInstancesExportRequest>,
    pub gets: Vec<SqlOperationsGetRequest>,
    /// operation name → (instance, uri, polls left)
    pub running: HashMap<String, (String, String, u32)>,
    pub overlaps: u32,
}

impl FakeCloudSql {
    pub fn new(bucket: &Arc<FakeBucket>, polls_before_done: u32) -> Self {
        Self {
            bucket: Some(Arc::clone(bucket)),
            polls_before_done,
            ..Self::default()
        }
    }

    pub fn exporter(self: &Arc<Self>, max_polls: u32) -> CloudSqlExporter {
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
                    .write_uri(&uri, self.contents.as_deref().unwrap_or(DUMP));
                done
            }
        };
        Ok(Response::from(done))
    }
}

/// Cloud SQL's 409 as the HTTP transport hands it over when the body is not a `Status`.
pub fn busy_as_http() -> Error {
    let body = r#"{"error":{"code":409,"message":"Operation failed because another operation was already in progress.","errors":[{"domain":"global","reason":"operationInProgress"}]}}"#;
    Error::http(
        409,
        http::HeaderMap::new(),
        bytes::Bytes::from_static(body.as_bytes()),
    )
}

/// The same refusal parsed into a `Status`: no HTTP code, only the legacy reason.
pub fn busy_as_status() -> Error {
    let body = bytes::Bytes::from_static(
        br#"{"error":{"code":409,"message":"another operation in progress","errors":[{"domain":"global","reason":"operationInProgress"}]}}"#,
    );
    Error::service(Status::try_from(&body).expect("an error body"))
}

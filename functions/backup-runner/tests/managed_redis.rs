//! Memorystore for Redis managed exports against the crate's stub trait: the exact export
//! request, polling the operation until done, a failed operation, and — since a Redis
//! export overwrites — the existence check that keeps a window to one export.

#[path = "managed_support.rs"]
mod managed_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use backup_runner::managed::{ExportKind, RedisExporter, RedisInstance};
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_longrunning::model::{GetOperationRequest, Operation};
use google_cloud_redis_v1::client::CloudRedis;
use google_cloud_redis_v1::model::{
    output_config, ExportInstanceRequest, GcsDestination, OutputConfig,
};
use managed_support::{assert_operation_failed, polling, window, FakeBucket};

const RDB: &[u8] = b"REDIS0011 snapshot";
const NAME: &str = "projects/acme-prod-1/locations/europe-west1/instances/sessions";
const KEY: &str = "nightly/managed/redis/sessions/2026/11/27/20261127t030000z.rdb";

/// Memorystore as far as exports go: the operation is done after `polls_before_done`
/// polls; on success the RDB file is written, over whatever was there (as Redis does).
#[derive(Debug)]
struct FakeRedis {
    bucket: Arc<FakeBucket>,
    polls_before_done: u32,
    fails_with: Option<(Code, &'static str)>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    exports: Vec<ExportInstanceRequest>,
    gets: Vec<GetOperationRequest>,
    /// operation name → (uri, polls left)
    running: HashMap<String, (String, u32)>,
    overlaps: u32,
}

impl FakeRedis {
    fn new(bucket: &Arc<FakeBucket>, polls_before_done: u32) -> Self {
        Self {
            bucket: Arc::clone(bucket),
            polls_before_done,
            fails_with: None,
            state: Mutex::default(),
        }
    }

    fn exporter(self: &Arc<Self>, max_polls: u32) -> RedisExporter {
        RedisExporter::new(
            CloudRedis::from_stub::<Self>(Arc::clone(self)),
            polling(max_polls),
        )
    }
}

impl google_cloud_redis_v1::stub::CloudRedis for FakeRedis {
    async fn export_instance(
        &self,
        req: ExportInstanceRequest,
        _: RequestOptions,
    ) -> google_cloud_redis_v1::Result<Response<Operation>> {
        let mut state = self.state.lock().expect("fake state");
        state.exports.push(req.clone());
        if !state.running.is_empty() {
            state.overlaps += 1;
        }
        let Some(output_config::Destination::GcsDestination(gcs)) =
            req.output_config.and_then(|c| c.destination)
        else {
            panic!("export without a Cloud Storage destination");
        };
        let name = format!("{NAME}/operations/op-{}", state.exports.len());
        state
            .running
            .insert(name.clone(), (gcs.uri, self.polls_before_done));
        Ok(Response::from(Operation::new().set_name(name)))
    }

    async fn get_operation(
        &self,
        req: GetOperationRequest,
        _: RequestOptions,
    ) -> google_cloud_redis_v1::Result<Response<Operation>> {
        let mut state = self.state.lock().expect("fake state");
        state.gets.push(req.clone());
        let (uri, polls_left) = state.running.get_mut(&req.name).expect("known op");
        let running = Operation::new().set_name(&req.name);
        if *polls_left > 0 {
            *polls_left -= 1;
            return Ok(Response::from(running));
        }
        let uri = uri.clone();
        state.running.remove(&req.name);
        let done = running.set_done(true);
        Ok(Response::from(match self.fails_with {
            Some((code, message)) => done.set_error(
                google_cloud_rpc::model::Status::new()
                    .set_code(code as i32)
                    .set_message(message),
            ),
            None => {
                self.bucket.write_uri(&uri, RDB);
                done
            }
        }))
    }
}

fn sessions() -> RedisInstance {
    NAME.parse().expect("a Redis instance")
}

#[tokio::test]
async fn exports_with_the_exact_request_then_polls_until_done() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeRedis::new(&bucket, 2));
    let report = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &sessions(), window())
        .await
        .expect("exported");

    let state = fake.state.lock().unwrap();
    let destination = GcsDestination::new().set_uri(format!("gs://gk-exports/{KEY}"));
    let expected = ExportInstanceRequest::new()
        .set_name(NAME)
        .set_output_config(OutputConfig::new().set_destination(
            output_config::Destination::GcsDestination(destination.into()),
        ));
    assert_eq!(state.exports, [expected]);
    let op = format!("{NAME}/operations/op-1");
    let get = GetOperationRequest::new().set_name(&op);
    assert_eq!(
        state.gets,
        [get.clone(), get.clone(), get],
        "two polls running, then done"
    );
    assert_eq!(report.kind, ExportKind::Redis);
    assert_eq!(report.instance, NAME);
    assert_eq!(report.database, None);
    assert_eq!(report.object_key, KEY);
    assert_eq!(report.size, RDB.len() as u64);
    assert_eq!(report.operation, Some(op));
}

#[tokio::test]
async fn a_failed_operation_is_a_failure_naming_its_error() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeRedis {
        fails_with: Some((
            Code::PermissionDenied,
            "service account cannot write gk-exports",
        )),
        ..FakeRedis::new(&bucket, 1)
    });
    let err = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &sessions(), window())
        .await
        .unwrap_err();
    assert_operation_failed(&err, &["PERMISSION_DENIED", "cannot write gk-exports"]);
}

#[tokio::test]
async fn an_existing_object_is_never_exported_over() {
    let bucket = Arc::new(FakeBucket::new().await);
    bucket.write_uri(
        &format!("gs://gk-exports/{KEY}"),
        b"first delivery's export",
    );
    let fake = Arc::new(FakeRedis::new(&bucket, 0));
    let report = (fake.exporter(10))
        .export(&bucket.store, &bucket.bucket, &sessions(), window())
        .await
        .expect("already done");
    assert!(fake.state.lock().unwrap().exports.is_empty());
    assert_eq!(report.operation, None);
    let kept = std::fs::read(bucket.store.root().join(KEY)).unwrap();
    assert_eq!(kept, b"first delivery's export");
}

#[tokio::test]
async fn two_concurrent_exports_of_one_window_export_once() {
    let bucket = Arc::new(FakeBucket::new().await);
    let fake = Arc::new(FakeRedis::new(&bucket, 3));
    let exporter = fake.exporter(10);
    let instance = sessions();
    let (a, b) = tokio::join!(
        exporter.export(&bucket.store, &bucket.bucket, &instance, window()),
        exporter.export(&bucket.store, &bucket.bucket, &instance, window()),
    );
    let operations = [a.unwrap().operation, b.unwrap().operation];
    let state = fake.state.lock().unwrap();
    assert_eq!((state.exports.len(), state.overlaps), (1, 0), "{state:?}");
    assert!(
        operations.contains(&None),
        "the second found the first's object: {operations:?}"
    );
}

//! Memorystore for Redis exports (`ExportInstance`, an RDB file in the bucket).
//!
//! Redis export overwrites its destination, so the existence check before the export is
//! the only thing standing between a redelivered window and a second export.

use chrono::{DateTime, Utc};
use google_cloud_gax::error::rpc::Code;
use google_cloud_longrunning::model::{operation, Operation};
use google_cloud_redis_v1::client::CloudRedis;
use google_cloud_redis_v1::model::{output_config, GcsDestination, OutputConfig};
use shared::backends::object_store::ObjectStore;

use super::config::RedisInstance;
use super::error::ManagedError;
use super::layout::ExportBucket;
use super::locks::InstanceLocks;
use super::once::{export_once, ExportTarget, Finished};
use super::poll::{not_finished, Polling};
use super::report::{ExportKind, ExportReport};
use shared::poll::poll_until;

/// Exports Redis instances, one operation per instance at a time in this process.
#[derive(Debug)]
pub struct RedisExporter {
    client: CloudRedis,
    polling: Polling,
    locks: InstanceLocks,
}

impl RedisExporter {
    /// An exporter using this client (real, or `from_stub` in tests).
    pub fn new(client: CloudRedis, polling: Polling) -> Self {
        Self {
            client,
            polling,
            locks: InstanceLocks::default(),
        }
    }

    /// Exports `redis` for `window` to its object in `bucket`, unless that object exists.
    /// `store` is the bucket itself (keys include the bucket's prefix).
    pub async fn export(
        &self,
        store: &dyn ObjectStore,
        bucket: &ExportBucket,
        redis: &RedisInstance,
        window: DateTime<Utc>,
    ) -> Result<ExportReport, ManagedError> {
        let target = ExportTarget {
            kind: ExportKind::Redis,
            instance: redis.name(),
            database: None,
            key: bucket.redis_key(redis, window),
        };
        let destination = GcsDestination::new().set_uri(bucket.uri(&target.key));
        let output = OutputConfig::new().set_destination(
            output_config::Destination::GcsDestination(destination.into()),
        );
        let instance = target.instance.clone();
        export_once(&self.locks, store, target, || async move {
            let started = (self.client.export_instance())
                .set_name(&instance)
                .set_output_config(output)
                .send()
                .await
                .map_err(|e| ManagedError::from_api(&instance, "export_instance", e))?;
            let done = self.wait(&instance, started).await?;
            Ok(match done.result {
                Some(operation::Result::Error(status)) => Finished::Failed {
                    operation: done.name,
                    code: Code::from(status.code).name().to_owned(),
                    message: status.message,
                },
                _ => Finished::Succeeded {
                    operation: done.name,
                },
            })
        })
        .await
    }

    /// Polls the long-running operation until done, with our bounds rather than the
    /// crate's poller's, so both managed exports give up (and retry) the same way.
    async fn wait(&self, instance: &str, operation: Operation) -> Result<Operation, ManagedError> {
        if operation.done {
            return Ok(operation);
        }
        let polled = poll_until(self.polling, || async {
            let current = (self.client.get_operation())
                .set_name(&operation.name)
                .send()
                .await
                .map_err(|e| ManagedError::from_api(instance, "get_operation", e))?;
            Ok(current.done.then_some(current))
        })
        .await;
        polled.map_err(|e| not_finished(e, instance, &operation.name))
    }
}

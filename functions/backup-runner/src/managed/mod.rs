//! Managed exports: Cloud SQL and Memorystore for Redis write their own export into a
//! bucket, for instances backup-runner cannot reach over the network.
//!
//! The object's name (instance, database, window) is the idempotency key: it is checked
//! before any export starts, so a redelivered window starts nothing. Exports of one
//! instance run one at a time in a process; an instance busy with another operation is a
//! retry, never a failure. The caller writes the manifest from the [`ExportReport`].

mod cloud_sql;
mod config;
mod error;
mod layout;
mod locks;
mod names;
mod once;
mod poll;
mod redis;
mod report;

pub use cloud_sql::CloudSqlExporter;
pub use config::{
    CloudSqlDatabase, ManagedConfig, RedisInstance, CLOUDSQL_EXPORTS, MANAGED_EXPORT_BUCKET,
    REDIS_EXPORTS,
};
pub use error::ManagedError;
pub use layout::ExportBucket;
pub use poll::{Polling, EXPORT_POLLING};
pub use redis::RedisExporter;
pub use report::{ExportKind, ExportReport};

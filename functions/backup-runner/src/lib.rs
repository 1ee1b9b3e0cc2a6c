//! backup-runner: streams a logical dump of each managed database to object storage.
//!
//! Work in progress (issue 12).

pub mod backup;
pub mod dump;
pub mod manifest;
pub mod pending;
pub mod store;

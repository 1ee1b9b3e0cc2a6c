//! backup-runner: streams a logical dump of each managed database to object storage.
//!
//! Work in progress (issue 12): only [`dump`], the verified-by-construction dump core, exists.

pub mod dump;

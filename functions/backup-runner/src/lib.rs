//! backup-runner: streams a logical dump of each managed database to object storage.
//!
//! Work in progress (issue 12): the dump core ([`dump`]), the object layout and create-only
//! writes ([`store`]), the manifest ([`manifest`]) and one backup end to end ([`backup`])
//! exist; the handler, the window and verification do not yet.

pub mod backup;
pub mod dump;
pub mod managed;
pub mod manifest;
pub mod store;

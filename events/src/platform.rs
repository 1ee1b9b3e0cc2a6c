//! The platform's own services, by their Cloud Run service names.
//!
//! No environment resource may take one of these names (see [`crate::names::EnvName`]), and
//! every platform service carries the label [`crate::labels::KIND`] =
//! [`crate::labels::KIND_PLATFORM`], which no environment resource has.

/// Every groundskeeper service that runs on Cloud Run, including those still to be built.
pub const PLATFORM_SERVICES: &[&str] = &[
    "env-provisioner",
    "secret-rotator",
    "backup-runner",
    "budget-guard",
];

//! JSON Schemas of our own payloads, generated from the types.
//!
//! The checked-in copies in `events/schemas/<type>.json` are what other teams and tools
//! read; `tests/schemas.rs` fails when they differ from [`all`] (regenerate with
//! `UPDATE_SCHEMAS=1 cargo nextest run -p events`).

use schemars::{JsonSchema, Schema};

use crate::backup::{
    BackupCompleted, BackupExported, BackupFailed, BackupOverdue, BackupRequested, BackupRestored,
    BackupSkipped, BackupVerified, BackupWindow, ExportRequested, RestoreRequested,
    VerifyRequested,
};
use crate::downscale::{BudgetThreshold, DownscaleApplied, DownscaleResumed, ResumeRequested};
use crate::environment::{
    EnvironmentDeleted, EnvironmentFailed, EnvironmentReady, EnvironmentRequested,
    TeardownRequested, TtlSweep,
};
use crate::rotation::{
    RotationDue, RotationFailed, RotationManualRequired, RotationOverdue, RotationRequested,
    SecretRotated,
};
use crate::TypedEvent;

/// The schema of one payload type, with its CloudEvents type in `x-cloudevents-type`.
pub fn schema_of<T: TypedEvent + JsonSchema>() -> Schema {
    let mut schema = schemars::schema_for!(T);
    schema.insert("x-cloudevents-type".into(), T::TYPE.into());
    schema
}

/// Every one of our payload types with its schema, in the order of [`crate::types::OURS`].
pub fn all() -> Vec<(&'static str, Schema)> {
    fn entry<T: TypedEvent + JsonSchema>() -> (&'static str, Schema) {
        (T::TYPE, schema_of::<T>())
    }
    vec![
        entry::<EnvironmentRequested>(),
        entry::<TeardownRequested>(),
        entry::<EnvironmentReady>(),
        entry::<EnvironmentFailed>(),
        entry::<EnvironmentDeleted>(),
        entry::<TtlSweep>(),
        entry::<RotationDue>(),
        entry::<RotationRequested>(),
        entry::<SecretRotated>(),
        entry::<RotationFailed>(),
        entry::<RotationManualRequired>(),
        entry::<RotationOverdue>(),
        entry::<BackupWindow>(),
        entry::<BackupRequested>(),
        entry::<BackupCompleted>(),
        entry::<BackupFailed>(),
        entry::<VerifyRequested>(),
        entry::<BackupVerified>(),
        entry::<BackupSkipped>(),
        entry::<BackupOverdue>(),
        entry::<RestoreRequested>(),
        entry::<BackupRestored>(),
        entry::<ExportRequested>(),
        entry::<BackupExported>(),
        entry::<DownscaleApplied>(),
        entry::<DownscaleResumed>(),
        entry::<BudgetThreshold>(),
        entry::<ResumeRequested>(),
    ]
}

/// The file a type's schema is kept in, relative to `events/schemas/`.
pub fn file_name(ty: &str) -> String {
    format!("{ty}.json")
}

//! Every CloudEvents `type` groundskeeper sends or receives, in one place.
//!
//! Ours follow `dev.groundskeeper.<subject>.<verb>.v<N>`: a breaking change to a payload is a
//! new version and a new constant, never an edit of an old one. Google's notifications carry
//! no CloudEvents type on the wire; the decoder gives them the constants below.

/// A person or CI asks for an environment ([`crate::environment::EnvironmentRequested`]).
pub const ENVIRONMENT_REQUESTED: &str = "dev.groundskeeper.environment.requested.v1";
/// A person or CI asks to remove an environment ([`crate::environment::TeardownRequested`]).
pub const ENVIRONMENT_TEARDOWN_REQUESTED: &str =
    "dev.groundskeeper.environment.teardown.requested.v1";
/// An environment is provisioned ([`crate::environment::EnvironmentReady`]).
pub const ENVIRONMENT_READY: &str = "dev.groundskeeper.environment.ready.v1";
/// Provisioning failed ([`crate::environment::EnvironmentFailed`]).
pub const ENVIRONMENT_FAILED: &str = "dev.groundskeeper.environment.failed.v1";
/// An environment was torn down ([`crate::environment::EnvironmentDeleted`]).
pub const ENVIRONMENT_DELETED: &str = "dev.groundskeeper.environment.deleted.v1";
/// The hourly Cloud Scheduler job that expires environments ([`crate::environment::TtlSweep`]).
pub const ENVIRONMENT_TTL_SWEEP: &str = "dev.groundskeeper.environment.ttl_sweep.v1";

/// The daily Cloud Scheduler rotation sweep ([`crate::rotation::RotationDue`]).
pub const ROTATION_DUE: &str = "dev.groundskeeper.rotation.due.v1";
/// A manual rotation request ([`crate::rotation::RotationRequested`]).
pub const ROTATION_REQUESTED: &str = "dev.groundskeeper.rotation.requested.v1";
/// A secret was rotated ([`crate::rotation::SecretRotated`]).
pub const SECRET_ROTATED: &str = "dev.groundskeeper.secret.rotated.v1";
/// A rotation stopped at a step ([`crate::rotation::RotationFailed`]).
pub const SECRET_ROTATION_FAILED: &str = "dev.groundskeeper.secret.rotation.failed.v1";
/// A secret that people rotate by hand is due ([`crate::rotation::RotationManualRequired`]).
pub const SECRET_ROTATION_MANUAL_REQUIRED: &str =
    "dev.groundskeeper.secret.rotation.manual_required.v1";
/// A rotation is more than one policy period late ([`crate::rotation::RotationOverdue`]).
pub const SECRET_ROTATION_OVERDUE: &str = "dev.groundskeeper.secret.rotation.overdue.v1";

/// The nightly Cloud Scheduler backup job ([`crate::backup::BackupWindow`]).
pub const BACKUP_WINDOW: &str = "dev.groundskeeper.backup.window.v1";
/// A manual backup request ([`crate::backup::BackupRequested`]).
pub const BACKUP_REQUESTED: &str = "dev.groundskeeper.backup.requested.v1";
/// A dump was written and verified ([`crate::backup::BackupCompleted`]).
pub const BACKUP_COMPLETED: &str = "dev.groundskeeper.backup.completed.v1";
/// A backup failed ([`crate::backup::BackupFailed`]).
pub const BACKUP_FAILED: &str = "dev.groundskeeper.backup.failed.v1";
/// Verify one stored backup by restoring it ([`crate::backup::VerifyRequested`]).
pub const BACKUP_VERIFY_REQUESTED: &str = "dev.groundskeeper.backup.verify.requested.v1";
/// A backup restored and matched its manifest ([`crate::backup::BackupVerified`]).
pub const BACKUP_VERIFIED: &str = "dev.groundskeeper.backup.verified.v1";
/// A window's backup did not start in its start window ([`crate::backup::BackupSkipped`]).
pub const BACKUP_SKIPPED: &str = "dev.groundskeeper.backup.skipped.v1";
/// A database's newest verified backup is too old ([`crate::backup::BackupOverdue`]).
pub const BACKUP_OVERDUE: &str = "dev.groundskeeper.backup.overdue.v1";
/// Restore a backup into a new database ([`crate::backup::RestoreRequested`]).
pub const BACKUP_RESTORE_REQUESTED: &str = "dev.groundskeeper.backup.restore.requested.v1";
/// One managed export of a window ([`crate::backup::ExportRequested`]).
pub const BACKUP_EXPORT_REQUESTED: &str = "dev.groundskeeper.backup.export.requested.v1";
/// A managed export is stored ([`crate::backup::BackupExported`]).
pub const BACKUP_EXPORTED: &str = "dev.groundskeeper.backup.exported.v1";
/// A backup was restored ([`crate::backup::BackupRestored`]).
pub const BACKUP_RESTORED: &str = "dev.groundskeeper.backup.restored.v1";

/// Budget guard scaled resources down ([`crate::downscale::DownscaleApplied`]).
pub const DOWNSCALE_APPLIED: &str = "dev.groundskeeper.downscale.applied.v1";
/// Budget guard resumed resources in a new period ([`crate::downscale::DownscaleResumed`]).
pub const DOWNSCALE_RESUMED: &str = "dev.groundskeeper.downscale.resumed.v1";
/// A budget reached its notify level ([`crate::downscale::BudgetThreshold`]).
pub const BUDGET_THRESHOLD: &str = "dev.groundskeeper.budget.threshold.v1";
/// Resume a budget's suspended resources now ([`crate::downscale::ResumeRequested`]).
pub const BUDGET_RESUME_REQUESTED: &str = "dev.groundskeeper.budget.resume.requested.v1";

/// Every type above that is ours, for listings and schema generation.
pub const OURS: &[&str] = &[
    ENVIRONMENT_REQUESTED,
    ENVIRONMENT_TEARDOWN_REQUESTED,
    ENVIRONMENT_READY,
    ENVIRONMENT_FAILED,
    ENVIRONMENT_DELETED,
    ENVIRONMENT_TTL_SWEEP,
    ROTATION_DUE,
    ROTATION_REQUESTED,
    SECRET_ROTATED,
    SECRET_ROTATION_FAILED,
    SECRET_ROTATION_MANUAL_REQUIRED,
    SECRET_ROTATION_OVERDUE,
    BACKUP_WINDOW,
    BACKUP_REQUESTED,
    BACKUP_COMPLETED,
    BACKUP_FAILED,
    BACKUP_VERIFY_REQUESTED,
    BACKUP_VERIFIED,
    BACKUP_SKIPPED,
    BACKUP_OVERDUE,
    BACKUP_RESTORE_REQUESTED,
    BACKUP_RESTORED,
    BACKUP_EXPORT_REQUESTED,
    BACKUP_EXPORTED,
    DOWNSCALE_APPLIED,
    DOWNSCALE_RESUMED,
    BUDGET_THRESHOLD,
    BUDGET_RESUME_REQUESTED,
];

/// A Cloud Billing budget notification. Google sends it as a plain Pub/Sub message with
/// `billingAccountId` and `budgetId` attributes and no type; the decoder assigns this one.
/// (Named after the `google.cloud.billing.budgets.v1` API that configures the budget.)
pub const BUDGET_NOTIFICATION: &str = "google.cloud.billing.budgets.v1.notification";
/// A Secret Manager event notification (attributes `eventType` and `secretId`, no type).
pub const SECRET_MANAGER_NOTIFICATION: &str = "google.cloud.secretmanager.secret.v1.notification";
/// Eventarc's CloudEvents type for a Pub/Sub message; the decoder unwraps it to the message.
pub const PUBSUB_MESSAGE_PUBLISHED: &str = "google.cloud.pubsub.topic.v1.messagePublished";

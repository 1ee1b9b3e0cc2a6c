//! The provisioning steps, typed; the journal (`resources` in the environment's row) and
//! `environment.failed` spell them as before.

shared::steps! {
    /// One provisioning step, in the order they run; teardown walks them backwards.
    /// `bucket` is `skipped` in prefix mode (`ENV_STORAGE`).
    pub enum ProvisionStep: "provisioning" of "environment" {
        /// The environment's owner role.
        OwnerRole = "owner_role",
        /// Its `_a` / `_b` login roles.
        LoginRoles = "login_roles",
        /// Its database.
        Database = "database",
        /// `from_backup`: the restore request to backup-runner (`skipped` without one). Right
        /// after the database, so the restore is asked for before anything else can use it.
        Restore = "restore",
        /// The credentials secret.
        Credentials = "credentials",
        /// Its own bucket (bucket mode).
        Bucket = "bucket",
        /// The marker under its object prefix.
        Objects = "objects",
        /// The preview service.
        Service = "service",
    }
}

/// Every step, in order.
pub const STEPS: &[ProvisionStep] = <ProvisionStep as shared::task::Step>::ALL;

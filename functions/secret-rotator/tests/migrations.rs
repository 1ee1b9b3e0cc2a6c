//! secret-rotator owns its migrations (0004, 0009): its `migrate` applies the runtime's and
//! its own, leaves env-provisioner's tables to env-provisioner, and runs again over a database
//! that env-provisioner also migrated, before or after it.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use shared::migrations::control_migrator;
use sqlx::migrate::Migrator;
use testbed::{PgAuth, ServiceStack};

const BINARY: &str = env!("CARGO_BIN_EXE_secret-rotator");
const PROVISIONER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../env-provisioner/migrations");

/// What `env-provisioner migrate` applies (its `sqlx::migrate!()` reads this same folder).
async fn provisioner_migrate(stack: &ServiceStack) {
    let own = Migrator::new(Path::new(PROVISIONER)).await.unwrap();
    control_migrator(&own)
        .unwrap()
        .run(&stack.control)
        .await
        .unwrap();
}

async fn versions(stack: &ServiceStack) -> Vec<i64> {
    stack
        .applied_migrations()
        .await
        .iter()
        .map(|m| m.0)
        .collect()
}

#[tokio::test]
async fn secret_rotator_migrate_creates_the_runtime_s_tables_and_its_own_only() {
    let stack = ServiceStack::builder()
        .postgres(PgAuth::Trust)
        .build()
        .await;
    stack.migrate_with(BINARY).await;
    // The runtime's (ledger, local secrets) and secret-rotator's; not env-provisioner's.
    let tables = [
        "deliveries",
        "rotation_policies",
        "rotations",
        "secret_aliases",
        "secret_versions",
        "secrets",
    ];
    assert_eq!(stack.tables("control").await, tables);
    assert_eq!(versions(&stack).await, [1, 2, 4, 6, 9]);
}

#[tokio::test]
async fn secret_rotator_migrate_runs_before_and_after_env_provisioner_s() {
    let stack = ServiceStack::builder()
        .postgres(PgAuth::Trust)
        .build()
        .await;
    stack.migrate_with(BINARY).await;
    provisioner_migrate(&stack).await;
    stack.migrate_with(BINARY).await;
    assert_eq!(versions(&stack).await, [1, 2, 3, 4, 5, 6, 7, 9]);
    provisioner_migrate(&stack).await;
    assert_eq!(versions(&stack).await, [1, 2, 3, 4, 5, 6, 7, 9]);
}

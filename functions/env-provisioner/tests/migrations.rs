//! env-provisioner owns its migrations (0003, 0005, 0007) and secret-rotator its own (0004,
//! 0009): each service's `migrate` applies the runtime's and its own, and the two migrate one
//! control database in either order, any number of times — including a database the single
//! migrator of before the split (all seven in `shared`) migrated, whose recorded checksums
//! must match.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use shared::migrations::{control_migrator, VersionClash};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use testbed::{PgAuth, ServiceStack};

const BINARY: &str = env!("CARGO_BIN_EXE_env-provisioner");
const RUNTIME: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/migrations");
const PROVISIONER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
const ROTATOR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../secret-rotator/migrations");

/// The checksums (SHA-384 of each file) the single migrator recorded before the split, taken
/// from its files at that commit: a database it migrated keeps these rows.
const BEFORE_THE_SPLIT: [(i64, &str); 7] = [
    (1, "7810717d05378b29976f4dcb107834937080d50c26cb735667553b409c7a65de890bc65f53e2e08f5d3126c3f9ab806d"),
    (2, "828f2f978974b5cb4f9072e9974280f5aff73d30b3135b5a09caab2e51dcad456dbf30d9243da6dff7e1eea2f14fe29a"),
    (3, "aa7fd044f256150389b4f98537a3c176e0983de89f84b525d9dd3c027fbdfc820fa15667fcd89fc6406d6a6a0095a4dc"),
    (4, "2e84ed72368af1253803beefc2206ecae9b291b8f43cb672aaf6004fb0742796eb2926dca0f518ab0423625b07c27002"),
    (5, "e58c182c6637df5863a903bc650379323a0213382c53776a2aceb204ff859f026b4c1eca09b0fd98e8c2753a0dba880f"),
    (6, "8cf1ca69011c9a1810e13b2dee175ad17a84f0bdc2c82d903b7e5610ca52a7359df20126b902bc8c01eece4131df5a17"),
    (7, "a55072818e3c687247b8f43836c0341efb3398f4e48c7ce0e7159de33fa39a6230c6718816831a0ee048ac42df4b08b0"),
];

/// What a database migrated by both services records: the rows of before the split,
/// unchanged, then each migration added since (0009 on), with its file's checksum.
async fn before_the_split() -> Vec<(i64, String)> {
    let mut rows: Vec<(i64, String)> = BEFORE_THE_SPLIT
        .iter()
        .map(|(v, sum)| (*v, sum.to_string()))
        .collect();
    for folder in [RUNTIME, PROVISIONER, ROTATOR] {
        let migrator = Migrator::new(Path::new(folder)).await.unwrap();
        rows.extend(
            migrator
                .iter()
                .filter(|m| m.version > 7)
                .map(|m| (m.version, hex(&m.checksum))),
        );
    }
    rows.sort();
    rows
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `secret-rotator migrate` applies (its binary is not built for these tests; its
/// `sqlx::migrate!()` reads this same folder).
async fn rotator_migrate(stack: &ServiceStack) {
    let own = Migrator::new(Path::new(ROTATOR)).await.unwrap();
    let migrator = control_migrator(&own).unwrap();
    migrator.run(&stack.control).await.unwrap();
}

#[tokio::test]
async fn env_provisioner_migrate_creates_the_runtime_s_tables_and_its_own_only() {
    let stack = ServiceStack::builder()
        .postgres(PgAuth::Trust)
        .build()
        .await;
    stack.migrate_with(BINARY).await;
    // The runtime's (ledger, local secrets) and env-provisioner's; not secret-rotator's.
    let tables = [
        "deliveries",
        "environment_requests",
        "environment_tombstones",
        "environments",
        "secret_aliases",
        "secret_versions",
        "secrets",
    ];
    assert_eq!(stack.tables("control").await, tables);
    let versions: Vec<i64> = stack
        .applied_migrations()
        .await
        .iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(versions, [1, 2, 3, 5, 6, 7]);
}

#[tokio::test]
async fn both_services_migrate_one_database_in_either_order_twice() {
    for provisioner_first in [true, false] {
        let stack = ServiceStack::builder()
            .postgres(PgAuth::Trust)
            .build()
            .await;
        for round in 0..2 {
            if provisioner_first {
                stack.migrate_with(BINARY).await;
                rotator_migrate(&stack).await;
            } else {
                rotator_migrate(&stack).await;
                stack.migrate_with(BINARY).await;
            }
            assert_eq!(
                stack.applied_migrations().await,
                before_the_split().await,
                "provisioner first: {provisioner_first}, round {round}"
            );
        }
        assert_eq!(
            stack.tables("control").await.len(),
            9,
            "every owner's tables"
        );
    }
}

#[tokio::test]
async fn a_database_the_single_migrator_migrated_still_migrates_with_the_split_ones() {
    // The single migrator of before the split: every file in one folder.
    let all = tempfile::tempdir().unwrap();
    for folder in [RUNTIME, PROVISIONER, ROTATOR] {
        for file in std::fs::read_dir(folder).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "sql") {
                std::fs::copy(&path, all.path().join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    let stack = ServiceStack::builder()
        .postgres(PgAuth::Trust)
        .migrations(Migrator::new(all.path()).await.unwrap())
        .build()
        .await;
    // Byte-identical files: what it recorded is what it recorded before the split.
    assert_eq!(stack.applied_migrations().await, before_the_split().await);
    stack.migrate_with(BINARY).await;
    rotator_migrate(&stack).await;
    assert_eq!(stack.applied_migrations().await, before_the_split().await);
}

#[test]
fn a_service_migration_that_takes_a_runtime_version_is_refused() {
    let taken = Migration::new(
        1,
        "mine".into(),
        MigrationType::Simple,
        "SELECT 1".into(),
        false,
    );
    let service = Migrator {
        migrations: vec![taken].into(),
        ..Migrator::DEFAULT
    };
    assert!(matches!(control_migrator(&service), Err(VersionClash(1))));
    assert!(control_migrator(&env_provisioner::migrations::MIGRATOR).is_ok());
}

//! pg_dump failing because the server ended every session (a restart, a shutdown) is a retry,
//! not a permanent `backup.failed`: found by the fault suite, whose 5 s PostgreSQL outage had
//! a backup dead-lettered with "the database system is shutting down". pg_dump failing for a
//! reason of its own stays permanent.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use backup_runner::backup::JobError;
use shared::backends::object_store::FileStore;
use sqlx::{Connection, PgConnection};
use testbed::Postgres;

/// Runs a backup of a database big enough to take a while and, once pg_dump is connected,
/// terminates pg_dump's session — and with `everyone`, every session on the database, as a
/// restart does. Returns how the backup failed.
async fn backup_interrupted(everyone: bool) -> JobError {
    let pg = Postgres::start().await;
    let target = support::noisy(&pg, 1_000_000).await;
    let name = target.database.clone();
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().to_str().unwrap()).await.unwrap();
    let job = support::job(&store, &target);
    let mut admin = PgConnection::connect(&pg.admin_url()).await.unwrap();
    let interrupt = async {
        loop {
            let connected: Option<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump'",
            )
            .bind(&name)
            .fetch_optional(&mut admin)
            .await
            .unwrap();
            if connected.is_some() {
                let whom = if everyone {
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1"
                } else {
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump'"
                };
                sqlx::query(whom)
                    .bind(&name)
                    .execute(&mut admin)
                    .await
                    .unwrap();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let (result, ()) = tokio::join!(job.run(), interrupt);
    result.expect_err("the backup was interrupted")
}

#[tokio::test]
async fn a_dump_cut_off_with_every_session_is_retried() {
    let err = backup_interrupted(true).await;
    assert_eq!(err.step(), "dump", "{err}");
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("restarted or shut down"), "{err}");
}

#[tokio::test]
async fn a_dump_that_fails_on_its_own_is_not_retried() {
    let err = backup_interrupted(false).await;
    assert_eq!(err.step(), "dump", "{err}");
    assert!(!err.is_retryable(), "{err}");
}

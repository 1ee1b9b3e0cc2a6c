//! Migrations belong to the deploy: `SERVICE migrate` creates the control schema once (and
//! again without harm), while a starting instance listens without touching the database.

mod support;

use std::{process::Stdio, time::Duration};

use reqwest::StatusCode;
use testbed::{free_port, Postgres};
use tokio::process::{Child, Command};

const PING: &str = "dev.groundskeeper.example.ping.v1";
const BINARY: &str = env!("CARGO_BIN_EXE_example-service");

/// `example-service migrate` with only `env`: its exit status and stderr.
async fn migrate(env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let out = Command::new(BINARY)
        .arg("migrate")
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run example-service migrate");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether `control.deliveries` exists in the database at `url`.
async fn has_schema(url: &str) -> bool {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('control.deliveries')::text")
            .fetch_one(&pool)
            .await
            .expect("to_regclass");
    pool.close().await;
    table.is_some()
}

/// Starts `example-service` against `database_url` and waits until `/healthz` answers, or
/// panics with the reason it exited.
async fn serve(database_url: &str) -> (Child, String) {
    let port = free_port();
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("PORT", port.to_string())
        .env("LISTEN_ADDRESS", "127.0.0.1")
        .env("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")
        .env("DATABASE_URL", database_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start example-service");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("example-service exited before listening: {status}");
        }
        if reqwest::get(format!("{url}/healthz")).await.is_ok() {
            return (child, url);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("example-service did not answer on {url}");
}

#[tokio::test]
async fn migrate_creates_the_control_schema_and_a_second_run_changes_nothing() {
    let postgres = Postgres::start().await;
    let url = postgres.fresh_database().await;
    assert!(!has_schema(&url).await, "a fresh database has no schema");

    let (status, stderr) = migrate(&[("DATABASE_URL", &url)]).await;
    assert!(status.success(), "first migrate: {status}: {stderr}");
    assert!(has_schema(&url).await, "migrate created control.deliveries");

    let (status, stderr) = migrate(&[("DATABASE_URL", &url)]).await;
    assert!(status.success(), "second migrate: {status}: {stderr}");
    assert!(has_schema(&url).await);
}

#[tokio::test]
async fn migrate_without_a_reachable_database_fails_naming_database_url() {
    let (status, stderr) = migrate(&[]).await;
    assert!(!status.success(), "no DATABASE_URL must fail");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");

    let closed = format!("postgres://gk:hunter2@127.0.0.1:{}/control", free_port());
    let (status, stderr) = migrate(&[("DATABASE_URL", &closed)]).await;
    assert!(!status.success(), "an unreachable database must fail");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
}

#[tokio::test]
async fn a_service_listens_without_connecting_to_the_control_database() {
    // Nothing listens on this port: a start that waited on the database would never answer.
    let closed = format!("postgres://gk@127.0.0.1:{}/control", free_port());
    let (_service, url) = serve(&closed).await;
    let health = reqwest::get(format!("{url}/healthz"))
        .await
        .expect("healthz");
    assert!(health.status().is_success(), "{health:?}");
}

#[tokio::test]
async fn a_delivery_before_the_migration_is_retried_and_handled_after_it() {
    let postgres = Postgres::start().await;
    let url = postgres.fresh_database().await;
    let (_service, service) = serve(&url).await;
    let ping = |id: &str| support::push_body(PING, &serde_json::json!({ "name": "demo" }), id);

    assert_eq!(
        support::post(&service, ping("m-1")).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "without the schema the delivery is retried, not acked or dead-lettered"
    );
    assert!(!has_schema(&url).await, "serving did not migrate");

    let (status, stderr) = migrate(&[("DATABASE_URL", &url)]).await;
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(
        support::post(&service, ping("m-1")).await,
        StatusCode::NO_CONTENT,
        "the redelivery after the deploy's migration is handled"
    );
}

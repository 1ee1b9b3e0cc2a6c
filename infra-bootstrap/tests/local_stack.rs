//! `groundskeeper local`, end to end: `local up` starts the real stack (emulator, PostgreSQL,
//! the service binaries, the plumbing, the scheduler) in a state directory of this test's own
//! on free ports; the tour's steps go through the CLI and real push delivery; the final
//! states are read from PostgreSQL, the secret store, the object store and the dead-letter
//! subscription; `local demo` runs the scripted tour on the same stack; `local down` leaves
//! no process behind (and a Drop guard runs it when the test fails halfway).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "support/build.rs"]
mod build;
#[path = "support/leaks.rs"]
mod leaks;
#[path = "support/stack.rs"]
mod stack;

use std::time::{Duration, Instant};

use base64::Engine as _;
use infra_bootstrap::operator::env::connection_url;
use infra_bootstrap::operator::stack::StackState;
use leaks::{assert_no_secret_leaked, has_url_with_password, password_of};
use secrecy::ExposeSecret as _;
use shared::backends::secrets::{LocalSecretStore, SecretStore};
use sqlx::{Connection as _, PgConnection, PgPool};
use stack::{text, Stack};

/// Pulls (and acknowledges) everything that reaches `subscription` within `window`.
async fn drain(state: &StackState, subscription: &str, window: Duration) -> Vec<serde_json::Value> {
    let url = format!(
        "http://{}/v1/projects/{}/subscriptions/{subscription}",
        state.pubsub_emulator_host, state.project
    );
    let http = reqwest::Client::new();
    let (mut got, deadline) = (Vec::new(), Instant::now() + window);
    while Instant::now() < deadline {
        let body = serde_json::json!({ "maxMessages": 10, "returnImmediately": true });
        let reply: serde_json::Value = http
            .post(format!("{url}:pull"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for received in reply["receivedMessages"].as_array().into_iter().flatten() {
            let ack = serde_json::json!({ "ackIds": [received["ackId"]] });
            http.post(format!("{url}:acknowledge"))
                .json(&ack)
                .send()
                .await
                .unwrap();
            got.push(received["message"].clone());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    got
}

async fn current_version(secrets: &LocalSecretStore, id: &str) -> Option<u64> {
    secrets
        .get_secret(id)
        .await
        .unwrap()
        .and_then(|s| s.alias("current"))
}

async fn login_as(
    secrets: &LocalSecretStore,
    id: &str,
    version: &str,
) -> Result<String, sqlx::Error> {
    let json = secrets.access(id, version).await.unwrap();
    let url = connection_url(&json).unwrap();
    let mut conn = PgConnection::connect(url.expose_secret()).await?;
    sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&mut conn)
        .await
}

#[test]
fn the_leak_check_finds_a_url_with_a_password_and_nothing_else() {
    assert!(has_url_with_password(
        r#"{"msg":"connect postgres://env_x:s3cret@10.0.0.1/db"}"#
    ));
    assert!(has_url_with_password("url=postgresql://u:p@h"));
    assert!(!has_url_with_password(
        "postgres://postgres@127.0.0.1:5432/postgres"
    ));
    assert!(!has_url_with_password(
        "http://127.0.0.1:8081/ and gs://bucket/a:b@c"
    ));
    assert_eq!(password_of("postgres://u:pw@h:1/d"), "pw");
}

#[tokio::test]
async fn the_local_stack_runs_the_tour_through_push_delivery_and_stops_without_a_trace() {
    let mut stack = Stack::up();
    let state = stack.state.clone();
    assert_eq!(
        stack.pgids.len(),
        3 + events::platform::built().count(),
        "emulator, postgres, scheduler and every built service of the registry"
    );
    let again = stack.cli(&["local", "up", "--free-ports"]);
    assert!(
        !again.status.success() && text(&again.stderr).contains("already running"),
        "{}",
        text(&again.stderr)
    );
    let status: serde_json::Value =
        serde_json::from_str(&stack.ok(&["local", "status", "--output", "json"])).unwrap();
    for component in status["components"].as_array().unwrap() {
        assert_eq!(component["alive"], true, "{component}");
    }

    // Request → ready: database, secret, marker object.
    stack.ok(&[
        "env",
        "request",
        "tour-e2e",
        "--owner",
        "ci@example.com",
        "--ttl",
        "2h",
    ]);
    assert_eq!(
        stack.ok(&["env", "wait", "tour-e2e", "--timeout", "60s"]),
        "ready"
    );
    let objects = stack.dir.join("objects/envs/tour-e2e/.groundskeeper.json");
    assert!(objects.is_file(), "the marker object exists");
    let control = PgPool::connect(&state.database_url).await.unwrap();
    let secrets = LocalSecretStore::new(control.clone());
    let secret = "ephemeral-tour-e2e-db-credentials";
    let first = current_version(&secrets, secret).await.expect("current");
    let url = stack.ok(&["env", "credentials", "tour-e2e"]);
    let mut passwords = vec![password_of(&url)];
    let mut conn = PgConnection::connect(&url)
        .await
        .expect("the credentials log in");
    sqlx::query("CREATE TABLE orders (id int)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    // Rotation under a client that keeps logging in with `current`.
    let client = {
        let secrets = LocalSecretStore::new(control.clone());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut ok, mut failed) = (0, 0);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match login_as(&secrets, secret, "current").await {
                    Ok(_) => ok += 1,
                    Err(_) => failed += 1,
                }
            }
            (ok, failed)
        });
        (stop, task)
    };
    stack.ok(&[
        "secret",
        "rotate",
        "--environment",
        "tour-e2e",
        "--reason",
        "e2e",
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while current_version(&secrets, secret).await == Some(first) {
        assert!(Instant::now() < deadline, "current never moved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.0.store(true, std::sync::atomic::Ordering::Relaxed);
    let (logins, failed) = client.1.await.unwrap();
    assert!(
        logins > 0 && failed == 0,
        "{logins} logins, {failed} failed"
    );
    let second = current_version(&secrets, secret).await.unwrap();
    assert!(second > first);
    assert_eq!(
        login_as(&secrets, secret, "current").await.unwrap(),
        "env_tour_e2e_b"
    );
    let info = secrets.get_secret(secret).await.unwrap().unwrap();
    assert_eq!(info.alias("previous"), Some(first));
    let rotated = connection_url(&secrets.access(secret, "current").await.unwrap()).unwrap();
    passwords.push(password_of(rotated.expose_secret()));

    // A malformed request: dead-lettered, exactly it, with its reason.
    let bad = r#"{"name": "Tour_E2E", "owner": "ci@example.com", "tier": "ephemeral"}"#;
    let file = stack.dir.join("bad.json");
    std::fs::write(&file, bad).unwrap();
    let id = stack.ok(&[
        "publish",
        "--type",
        "environment.requested",
        "--raw",
        "--file",
        file.to_str().unwrap(),
    ]);
    let parked = drain(
        &state,
        "env-provisioner-dead-letter-sub",
        Duration::from_secs(8),
    )
    .await;
    assert_eq!(parked.len(), 1, "exactly the malformed one: {parked:?}");
    let data = base64::engine::general_purpose::STANDARD
        .decode(parked[0]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(data, bad.as_bytes());
    let attributes = &parked[0]["attributes"];
    assert_eq!(attributes["error-type"], "invalid-payload");
    assert_eq!(attributes["original-message-id"], id.as_str());
    assert!(
        attributes["error-reason"]
            .as_str()
            .unwrap()
            .contains("environment name"),
        "{attributes}"
    );

    // Teardown: nothing left in PostgreSQL, the secret store or the object store.
    stack.ok(&["env", "teardown", "tour-e2e"]);
    assert_eq!(
        stack.ok(&[
            "env",
            "wait",
            "tour-e2e",
            "--for",
            "deleted",
            "--timeout",
            "60s"
        ]),
        "deleted"
    );
    let admin = PgPool::connect(state.postgres_admin_url.as_deref().unwrap())
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE 'env_tour_e2e%') \
              + (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'env_tour_e2e%')",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(left, 0, "no database or role left");
    let name: events::names::EnvName = "tour-e2e".parse().unwrap();
    let row = env_provisioner::inventory::get(&control, &name)
        .await
        .unwrap()
        .expect("the environment is recorded");
    assert_eq!(row.status, "deleted");
    assert!(
        secrets.get_secret(secret).await.unwrap().is_none(),
        "the secret is gone"
    );
    assert!(!objects.exists(), "the marker object is gone");
    control.close().await;
    admin.close().await;

    // The scripted tour on the same stack.
    let tour = stack.ok(&["local", "demo"]);
    for line in [
        "← environment.ready",
        "← backup.completed",
        "← backup.verified",
        "--from-backup demo-",
        "← backup.restored",
        "✓ row counts through demo-",
        "← secret.rotated",
        ", 0 failed",
        "← downscale.applied: level cap, suspended ",
        "is refused: SQLSTATE 53300 too_many_connections",
        "← downscale.resumed (new-period)",
        "✓ a new login to the environment's database succeeds again",
        "← env-provisioner-dead-letter-sub: invalid-payload",
        "← environment.deleted",
    ] {
        assert!(tour.contains(line), "{line:?} in the tour:\n{tour}");
    }
    // The backup step's list shows the verified backup, and the seeded environment matched.
    assert!(
        tour.lines()
            .any(|l| l.contains(" yes ") && l.contains("backups/demo-")),
        "a verified backup in the tour's list:\n{tour}"
    );
    assert!(!tour.contains("✗"), "nothing failed in the tour:\n{tour}");
    let dead_letter = String::from_utf8_lossy(&data).into_owned();
    assert_no_secret_leaked(&stack.dir, &passwords, &[&tour, &dead_letter]);

    stack.down_and_check();
}

//! The `groundskeeper` CLI end to end: its binary against PostgreSQL, the Pub/Sub emulator
//! with the local manifest's plumbing, and the real env-provisioner reached by push delivery.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use support::{stderr, stdout, LocalStack};

/// Asserts that the command exited with `code` and said `text` on stderr.
fn assert_exit(out: &std::process::Output, code: i32, text: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
    assert!(stderr(out).contains(text), "{}", stderr(out));
}

/// `groundskeeper publish --type environment.requested` of `json` (written to a file named
/// `file` in the stack's state dir), with `--raw` when asked: published as it is.
async fn publish_request(
    stack: &LocalStack,
    file: &str,
    json: &str,
    raw: bool,
) -> std::process::Output {
    let path = stack.state_dir.path().join(file);
    std::fs::write(&path, json).unwrap();
    let path = path.to_str().unwrap();
    let args = ["publish", "--type", "environment.requested", "--file", path];
    let raw: &[&str] = if raw { &["--raw"] } else { &[] };
    stack.cli(&[&args[..], raw].concat()).await
}

#[tokio::test]
async fn request_wait_use_and_tear_down_an_environment_from_the_cli() {
    let stack = LocalStack::start().await;
    stack
        .emulator
        .create_pull_subscription("groundskeeper-events", "watch")
        .await;

    let out = stack
        .cli(&[
            "env",
            "request",
            "shop",
            "--owner",
            "ci@example.com",
            "--ttl",
            "2h",
            "--label",
            "team=payments",
        ])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).chars().all(|c| c.is_ascii_digit()) && !stdout(&out).is_empty(),
        "a message id: {out:?}"
    );

    let out = stack
        .cli(&["env", "wait", "shop", "--timeout", "60s"])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ready");

    let out = stack.cli(&["env", "list", "--output", "json"]).await;
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let row = &listed[0];
    assert_eq!(
        (&row["name"], &row["tier"], &row["owner"], &row["status"]),
        (
            &"shop".into(),
            &"ephemeral".into(),
            &"ci@example.com".into(),
            &"ready".into()
        )
    );
    let expires: chrono::DateTime<chrono::Utc> =
        row["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires - chrono::Utc::now();
    assert!(
        ttl > chrono::TimeDelta::minutes(110) && ttl <= chrono::TimeDelta::hours(2),
        "{ttl}"
    );

    // The one command that prints a secret: its URL logs in with the password checked.
    let out = stack.cli(&["env", "credentials", "shop"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let url = stdout(&out);
    assert!(
        url.starts_with("postgres://env_shop_a:") && url.contains("/env_shop"),
        "shape only"
    );
    let mut conn = PgConnection::connect(&url)
        .await
        .expect("the credentials connect");
    sqlx::query("CREATE TABLE orders (id int)")
        .execute(&mut conn)
        .await
        .expect("create a table");
    conn.close().await.unwrap();
    let mut wrong = reqwest::Url::parse(&url).unwrap();
    wrong.set_password(Some("not-the-password")).unwrap();
    assert!(
        PgConnection::connect(wrong.as_str()).await.is_err(),
        "passwords are checked"
    );

    let ready = stack
        .emulator
        .pull("watch", 1, Duration::from_secs(10))
        .await;
    assert_eq!(
        ready[0].attributes["ce-type"],
        "dev.groundskeeper.environment.ready.v1"
    );
    let password = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        !String::from_utf8_lossy(&ready[0].data).contains(&password),
        "no password in events"
    );

    let out = stack
        .cli(&["env", "teardown", "shop", "--reason", "pipeline done"])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = stack
        .cli(&[
            "env",
            "wait",
            "shop",
            "--for",
            "deleted",
            "--timeout",
            "60s",
        ])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "deleted");
    let admin = sqlx::PgPool::connect(&stack.postgres.admin_url())
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE 'env_shop%') \
              + (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'env_shop%')",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(left, 0, "no database or role left");
    let out = stack
        .cli(&["env", "credentials", "shop", "--tier", "ephemeral"])
        .await;
    assert!(
        !out.status.success() && stderr(&out).contains("not found"),
        "{}",
        stderr(&out)
    );
    let out = stack.cli(&["env", "list"]).await;
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "only the header: {}",
        stdout(&out)
    );
}

#[tokio::test]
async fn a_bad_request_is_refused_by_the_cli_and_dead_lettered_with_its_reason_when_raw() {
    let stack = LocalStack::start().await;
    let bad = r#"{"name": "Pr_1", "owner": "ci@example.com", "tier": "ephemeral"}"#;

    let out = publish_request(&stack, "bad.json", bad, false).await;
    assert!(!out.status.success(), "refused before publishing");
    assert!(
        stderr(&out).contains("not published") && stderr(&out).contains("Pr_1"),
        "{}",
        stderr(&out)
    );

    let out = publish_request(&stack, "bad.json", bad, true).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let parked = stack
        .emulator
        .pull(
            "env-provisioner-dead-letter-sub",
            2,
            Duration::from_secs(15),
        )
        .await;
    assert_eq!(parked.len(), 1, "exactly the raw one: {parked:?}");
    assert_eq!(parked[0].data, bad.as_bytes());
    assert_eq!(parked[0].attributes["error-type"], "invalid-payload");
    assert!(
        parked[0].attributes["error-reason"].contains("environment name"),
        "{:?}",
        parked[0].attributes
    );

    // Nothing was created for it, so waiting for it runs into the timeout (exit 124).
    let out = stack.cli(&["env", "wait", "pr-1", "--timeout", "1s"]).await;
    assert_exit(&out, 124, "pr-1: not requested yet");
}

#[tokio::test]
async fn a_refused_request_ends_the_wait_at_once_with_the_reason() {
    let stack = LocalStack::start().await;

    // A TTL above the provisioner's MAX_TTL (720h): refused there, and `--wait` follows
    // this very request, so it ends with the reason long before its timeout.
    let started = std::time::Instant::now();
    let args = [
        "env",
        "request",
        "long",
        "--owner",
        "ci@example.com",
        "--ttl",
        "1000h",
    ];
    let out = stack
        .cli(&[&args[..], &["--wait", "--timeout", "60s"]].concat())
        .await;
    assert_exit(
        &out,
        1,
        "the request for long was refused: ttl: 1000h is longer than the maximum of 720h (MAX_TTL)",
    );
    assert!(stdout(&out).ends_with("\nrefused"), "{}", stdout(&out));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );

    // Tier prod: the CLI refuses to publish it; published raw, the provisioner refuses it,
    // and a wait by name alone (there is no row) reports that refusal.
    let out = stack
        .cli(&[
            "env",
            "request",
            "prod-db",
            "--owner",
            "ci@example.com",
            "--tier",
            "prod",
        ])
        .await;
    assert!(
        !out.status.success() && stderr(&out).contains("not published: tier: `prod`"),
        "{}",
        stderr(&out)
    );
    let prod = r#"{"name": "prod-db", "owner": "ci@example.com", "tier": "prod"}"#;
    let out = publish_request(&stack, "prod.json", prod, true).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = stack
        .cli(&["env", "wait", "prod-db", "--timeout", "60s"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused")
            && stderr(&out).contains("tier: `prod` cannot be requested"),
        "{}",
        stderr(&out)
    );

    // Accepted: `--wait` ends at ready. The same name with another spec is refused, and a
    // wait on that request's id says why, although the environment itself is ready.
    let args = [
        "env",
        "request",
        "shop",
        "--owner",
        "ci@example.com",
        "--wait",
    ];
    let out = stack.cli(&args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("\nready"), "{}", stdout(&out));
    let out = stack
        .cli(&[
            "env",
            "request",
            "shop",
            "--owner",
            "other@example.com",
            "--output",
            "json",
        ])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let sent: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = sent["request_id"].as_str().unwrap();
    let out = stack
        .cli(&["env", "wait", "shop", "--request", id, "--timeout", "60s"])
        .await;
    assert_exit(&out, 1, "exists with a different spec");
}

#[tokio::test]
async fn a_stale_state_file_is_reported_and_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let state = serde_json::json!({
        "version": 1, "project": "p", "database_url": "postgres://postgres@127.0.0.1:1/x",
        "pubsub_emulator_host": format!("127.0.0.1:{}", testbed::free_port()),
    });
    std::fs::write(dir.path().join("stack.json"), state.to_string()).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_groundskeeper"))
        .args(["env", "list"])
        .env_clear()
        .env("GROUNDSKEEPER_STATE_DIR", dir.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("ignoring") && err.contains("does not answer"),
        "{err}"
    );
    assert!(err.contains("GOOGLE_CLOUD_PROJECT is not set"), "{err}");
}

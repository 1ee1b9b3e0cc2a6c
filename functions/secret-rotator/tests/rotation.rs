//! One rotation, end to end, on real PostgreSQL and the real local secret store: the
//! protocol's result, ownership across the alternation, single-user mode, a broken `current`,
//! and the grace period's clean-up.
#![allow(clippy::unwrap_used)]

mod support;

use events::names::EnvName;
use secrecy::ExposeSecret;
use shared::backends::secrets::{SecretStore, VersionState};
use sqlx::{Connection, PgConnection};
use support::*;

#[tokio::test]
async fn a_rotation_moves_current_to_a_tested_password_on_the_other_role() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("rot")).await;
    let before = stack.current(&secret).await;
    assert!(before.user.as_str().ends_with("_a"));

    stack.rotate(&secret, "r1").await;

    let after = stack.current(&secret).await;
    assert!(after.user.as_str().ends_with("_b"), "{}", after.user);
    assert_ne!(
        after.password.expose_secret(),
        before.password.expose_secret()
    );
    assert!(after.password.expose_secret().len() >= 32);
    assert_eq!(
        (after.host.as_str(), after.port, after.database.as_str()),
        (before.host.as_str(), before.port, before.database.as_str())
    );
    login(&after).await.unwrap();
    login(&before).await.unwrap(); // `previous` keeps working until the next rotation
    let aliases = stack.aliases(&secret).await;
    assert_eq!(aliases.get("current"), Some(&2));
    assert_eq!(aliases.get("previous"), Some(&1));
    assert_eq!(aliases.get("pending"), None);
    let rotated = stack.emitted_of(ROTATED);
    assert_eq!(
        rotated,
        vec![serde_json::json!({
            "secret": secret, "environment": secret.as_str().trim_start_matches("dev-").trim_end_matches("-db-credentials"),
            "version": "2", "previous_version": "1", "role": after.user,
        })]
    );

    // The same request again is done already; a new one switches back to `_a`.
    stack.rotate(&secret, "r1").await;
    assert_eq!(stack.aliases(&secret).await.get("current"), Some(&2));
    stack.rotate(&secret, "r2").await;
    let third = stack.current(&secret).await;
    assert!(third.user.as_str().ends_with("_a"));
    login(&third).await.unwrap();
    assert!(
        login(&before).await.is_err(),
        "the old `_a` password was replaced"
    );
}

#[tokio::test]
async fn objects_created_by_one_login_role_stay_usable_by_the_other() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("own")).await;
    let connect = |cred: secret_rotator::Credential| async move {
        PgConnection::connect_with(&cred.options(false).unwrap())
            .await
            .unwrap()
    };
    let mut a = connect(stack.current(&secret).await).await;
    sqlx::raw_sql("CREATE TABLE orders (id int primary key); INSERT INTO orders VALUES (1)")
        .execute(&mut a)
        .await
        .unwrap();
    a.close().await.unwrap();

    for round in 2..=3 {
        stack.rotate(&secret, &format!("r{round}")).await;
        let mut conn = connect(stack.current(&secret).await).await;
        sqlx::query("INSERT INTO orders VALUES ($1)")
            .bind(round)
            .execute(&mut conn)
            .await
            .unwrap();
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(count, i64::from(round));
        sqlx::query("CREATE TABLE IF NOT EXISTS audit (n int)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO audit VALUES (1)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tableowner::text FROM pg_tables WHERE tablename IN ('orders', 'audit')",
    )
    .fetch_all(&pool_for(&stack, &stack.current(&secret).await.database).await)
    .await
    .unwrap();
    assert_eq!(owners.len(), 1);
    assert!(owners[0].ends_with("_owner"), "{owners:?}");
}

async fn pool_for(stack: &Stack, database: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(&stack.postgres.url(database))
        .await
        .unwrap()
}

#[tokio::test]
async fn single_user_mode_changes_the_role_s_own_password() {
    let stack = Stack::start(FAST).await;
    let name = env_name("single");
    // A database the platform does not own: one login role, the secret labelled for it.
    let secret = stack.provision_single_user(&name).await;
    let before = stack.current(&secret).await;

    stack.rotate(&secret, "s1").await;

    let after = stack.current(&secret).await;
    assert_eq!(after.user, before.user);
    login(&after).await.unwrap();
    assert_eq!(login(&before).await.unwrap_err(), "28P01");
}

#[tokio::test]
async fn a_current_credential_that_does_not_authenticate_is_not_rotated_over() {
    let stack = Stack::start(FAST).await;
    let name = env_name("broken");
    let secret = stack.provision(&name).await;
    let env: EnvName = name.parse().unwrap();
    use shared::backends::databases::DatabaseAdmin;
    stack
        .admin
        .set_password(
            &env.login_role(events::names::LoginSlot::A),
            &"changed-behind-our-back".to_string().into(),
        )
        .await
        .unwrap();

    let err = stack.request("b1", &secret).await.unwrap_err();

    assert!(
        matches!(
            err,
            secret_rotator::RotateError::Failed {
                step: secret_rotator::RotationStep::Check,
                ..
            }
        ),
        "{err}"
    );
    let failed = stack.emitted_of(FAILED);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["step"], "check");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not authenticate"),
        "{failed:?}"
    );
    let info = stack.info(&secret).await;
    assert_eq!(info.versions.len(), 1, "nothing was created");
}

#[tokio::test]
async fn the_sweep_disables_versions_older_than_previous_after_grace_then_destroys_them() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("grace")).await;
    for round in 1..=3 {
        stack.rotate(&secret, &format!("g{round}")).await;
    }
    let states = |stack: &Stack| {
        let secret = secret.clone();
        let store = stack.store.clone();
        async move {
            let info = store.get_secret(secret.as_str()).await.unwrap().unwrap();
            info.versions.iter().map(|v| v.state).collect::<Vec<_>>()
        }
    };
    use VersionState::*;
    let sweep = |id: &str| raw(id, DUE, serde_json::json!({}));

    stack
        .deliver_with(stack.config.clone(), sweep("sweep-1"))
        .await
        .unwrap();
    assert_eq!(
        states(&stack).await,
        [Enabled, Enabled, Enabled, Enabled],
        "within the grace period"
    );

    let no_grace = stack.with_config(&[("GRACE_PERIOD_SECS", "0"), ("RETENTION_SECS", "3600")]);
    stack
        .deliver_with(no_grace, sweep("sweep-2"))
        .await
        .unwrap();
    assert_eq!(states(&stack).await, [Disabled, Disabled, Enabled, Enabled]);
    assert_eq!(stack.aliases(&secret).await.get("previous"), Some(&3));

    let no_retention = stack.with_config(&[("GRACE_PERIOD_SECS", "0"), ("RETENTION_SECS", "0")]);
    stack
        .deliver_with(no_retention, sweep("sweep-3"))
        .await
        .unwrap();
    assert_eq!(
        states(&stack).await,
        [Destroyed, Destroyed, Enabled, Enabled]
    );
    login(&stack.current(&secret).await).await.unwrap();
}

#[tokio::test]
async fn with_tls_required_a_server_without_tls_stops_the_rotation_before_any_change() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("tls")).await;
    let before = stack.current(&secret).await;
    // The harness's PostgreSQL has no TLS; the credential says `prefer`, which would fall
    // back to plaintext without REQUIRE_TLS.
    let tls_only = stack.with_config(&[("MIN_ROTATION_INTERVAL_MS", "0"), ("REQUIRE_TLS", "on")]);

    let err = stack
        .deliver_with(
            tls_only,
            raw("tls-1", REQUESTED, serde_json::json!({ "secret": secret })),
        )
        .await
        .unwrap_err();

    assert!(err.to_string().to_lowercase().contains("tls"), "{err}");
    assert_eq!(
        stack.aliases(&secret).await,
        [("current".to_string(), 1)].into(),
        "nothing moved"
    );
    assert_eq!(stack.current(&secret).await.user, before.user);
    login(&before).await.unwrap();
    assert!(stack.emitted_of(ROTATED).is_empty());
}

//! Request → ready → use → teardown, against a real PostgreSQL that checks passwords, the
//! local secret store and a file object store.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use secrecy::ExposeSecret;
use shared::backends::secrets::SecretStore;
use shared::Outcome;
use sqlx::{postgres::PgConnectOptions, ConnectOptions};
use support::Stack;

/// Connection options from the credentials JSON in the secret's `current` version.
async fn credentials(stack: &Stack, secret: &str) -> (PgConnectOptions, String) {
    let store = shared::backends::secrets::LocalSecretStore::new(stack.control.clone());
    let json = store
        .access(secret, "current")
        .await
        .expect("current version");
    let c: serde_json::Value = serde_json::from_str(json.expose_secret()).unwrap();
    let options = PgConnectOptions::new()
        .host(c["host"].as_str().unwrap())
        .port(c["port"].as_u64().unwrap() as u16)
        .database(c["database"].as_str().unwrap())
        .username(c["user"].as_str().unwrap())
        .password(c["password"].as_str().unwrap());
    (options, c["password"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_requested_environment_is_usable_isolated_and_removed_without_trace() {
    let stack = Stack::start(&[]).await;
    assert_eq!(
        stack.request_env("r1", "shop").await.unwrap(),
        Outcome::Done
    );
    assert_eq!(
        stack.request_env("r2", "other").await.unwrap(),
        Outcome::Done
    );

    let emitted = stack.emitted();
    let ready: Vec<_> = emitted
        .iter()
        .filter(|(ty, _)| ty.ends_with("environment.ready.v1"))
        .collect();
    assert_eq!(ready.len(), 2, "{emitted:?}");
    let shop = &ready[0].1;
    assert_eq!(shop["database"], "env_shop");
    assert_eq!(shop["user"], "env_shop_a");
    assert_eq!(
        shop["secret"],
        "projects/local-project/secrets/ephemeral-shop-db-credentials"
    );
    assert_eq!(shop["labels"]["managed-by"], "groundskeeper");
    assert!(
        shop["labels"]["expires-at"].is_string() && shop["expires_at"].is_string(),
        "{shop}"
    );

    // The credentials work and own what they create; the password is never in an event.
    let (options, password) = credentials(&stack, "ephemeral-shop-db-credentials").await;
    assert!(!serde_json::to_string(&emitted).unwrap().contains(&password));
    assert!(password.len() >= 32);
    let mut conn = options
        .connect()
        .await
        .expect("the environment's credentials connect");
    sqlx::query("CREATE TABLE orders (id int)")
        .execute(&mut conn)
        .await
        .expect("create a table");
    let owner: String =
        sqlx::query_scalar("SELECT tableowner::text FROM pg_tables WHERE tablename = 'orders'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(owner, "env_shop_owner", "objects belong to the owner role");

    // Another environment's credentials cannot reach this database; a wrong password fails.
    let (other, _) = credentials(&stack, "ephemeral-other-db-credentials").await;
    let err = other
        .clone()
        .database("env_shop")
        .connect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    assert!(options
        .clone()
        .password("not-the-password-0123456789abcdef")
        .connect()
        .await
        .is_err());
    drop(conn);

    // Teardown removes everything, and is done (not an error) the second time.
    assert_eq!(
        stack.teardown_env("t1", "shop").await.unwrap(),
        Outcome::Done
    );
    let footprint = stack.footprint("shop").await;
    assert_eq!(footprint["roles"], "");
    assert_eq!(footprint["databases"], "");
    assert_eq!(footprint["secrets"], "");
    assert_eq!(footprint["objects"], "");
    assert!(footprint["row"].starts_with("deleted:{}"), "{footprint:?}");
    assert!(matches!(
        stack.teardown_env("t2", "shop").await.unwrap(),
        Outcome::Ignored(_)
    ));
    assert!(matches!(
        stack.teardown_env("t3", "never-was").await.unwrap(),
        Outcome::Ignored(_)
    ));
    let deleted: Vec<_> = stack
        .emitted()
        .into_iter()
        .filter(|(ty, _)| ty.ends_with("environment.deleted.v1"))
        .collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(
        deleted[0].1,
        serde_json::json!({ "name": "shop", "reason": "requested" })
    );
    // The other environment is untouched.
    assert!(
        stack.footprint("other").await["databases"].starts_with("env_other:env_other_owner:10:")
    );
}

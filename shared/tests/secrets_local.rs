//! The local secret store against a real PostgreSQL: versions, aliases under an etag,
//! disable / enable / destroy, concurrency, listing and deletion.

use secrecy::{ExposeSecret, SecretString};
use shared::backends::secrets::{Labels, LocalSecretStore, SecretError, SecretStore, VersionState};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A store on a fresh database of a throwaway cluster. Field order: the pool closes before
/// the cluster stops.
struct Fixture {
    store: Arc<LocalSecretStore>,
    pool: PgPool,
    _pg: testbed::Postgres,
}

async fn fixture() -> Fixture {
    let pg = testbed::Postgres::start().await;
    let url = pg.fresh_database().await;
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect(&url)
        .await
        .expect("connect");
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .expect("migrate");
    Fixture {
        store: Arc::new(LocalSecretStore::new(pool.clone())),
        pool,
        _pg: pg,
    }
}

fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn aliases(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// Opens `n` connections up front, so racing tasks really overlap instead of queueing for a
/// connection one after the other.
async fn warm(pool: &PgPool, n: usize) {
    let mut held = Vec::new();
    for _ in 0..n {
        held.push(pool.acquire().await.expect("connection"));
    }
}

async fn read(store: &LocalSecretStore, name: &str, which: &str) -> Result<String, SecretError> {
    store
        .access(name, which)
        .await
        .map(|s| s.expose_secret().to_owned())
}

#[tokio::test]
async fn versions_are_numbered_and_read_by_number_latest_and_alias() {
    let f = fixture().await;
    let s = &*f.store;
    let env = labels(&[("environment", "shop"), ("managed-by", "groundskeeper")]);
    assert!(
        s.create_secret("dev-shop-db", &env).await.unwrap(),
        "first create creates"
    );
    assert!(
        !s.create_secret("dev-shop-db", &env).await.unwrap(),
        "same labels: already there"
    );
    let other = s
        .create_secret("dev-shop-db", &labels(&[("environment", "cart")]))
        .await;
    assert!(
        matches!(other, Err(SecretError::InvalidState { .. })),
        "{other:?}"
    );

    for (i, value) in ["pw-one", "pw-two", "pw-three"].iter().enumerate() {
        assert_eq!(
            s.add_version("dev-shop-db", &secret(value)).await.unwrap(),
            i as u64 + 1
        );
    }
    assert_eq!(read(s, "dev-shop-db", "1").await.unwrap(), "pw-one");
    assert_eq!(read(s, "dev-shop-db", "latest").await.unwrap(), "pw-three");

    let info = s.get_secret("dev-shop-db").await.unwrap().expect("exists");
    assert_eq!(info.name, "dev-shop-db");
    assert_eq!(info.labels, env);
    assert!(info.aliases.is_empty());
    let numbers: Vec<u64> = info.versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(info
        .versions
        .iter()
        .all(|v| v.state == VersionState::Enabled));

    s.update_aliases(
        "dev-shop-db",
        &aliases(&[("current", 2), ("previous", 1)]),
        &info.etag,
    )
    .await
    .unwrap();
    assert_eq!(read(s, "dev-shop-db", "current").await.unwrap(), "pw-two");
    assert_eq!(read(s, "dev-shop-db", "previous").await.unwrap(), "pw-one");

    let missing = read(s, "dev-shop-db", "9").await.expect_err("no version 9");
    assert!(
        matches!(&missing, SecretError::NotFound { version: Some(v), .. } if v == "9"),
        "{missing}"
    );
    let missing = read(s, "dev-shop-db", "pending")
        .await
        .expect_err("no such alias");
    assert!(
        matches!(
            &missing,
            SecretError::NotFound {
                version: Some(_),
                ..
            }
        ),
        "{missing}"
    );
    let missing = read(s, "dev-nope-db", "latest")
        .await
        .expect_err("no such secret");
    assert!(
        matches!(&missing, SecretError::NotFound { version: None, .. }),
        "{missing}"
    );
    let missing = s
        .add_version("dev-nope-db", &secret("x"))
        .await
        .expect_err("no such secret");
    assert!(matches!(missing, SecretError::NotFound { .. }), "{missing}");
    assert!(s.get_secret("dev-nope-db").await.unwrap().is_none());
}

#[tokio::test]
async fn aliases_are_replaced_only_under_the_current_etag() {
    let f = fixture().await;
    let s = &*f.store;
    s.create_secret("api", &Labels::new()).await.unwrap();
    for value in ["a", "b", "c"] {
        s.add_version("api", &secret(value)).await.unwrap();
    }
    let etag0 = s.get_secret("api").await.unwrap().unwrap().etag;
    let etag1 = s
        .update_aliases("api", &aliases(&[("current", 1)]), &etag0)
        .await
        .unwrap();
    assert_ne!(etag1, etag0);
    assert_eq!(s.get_secret("api").await.unwrap().unwrap().etag, etag1);

    let stale = s
        .update_aliases("api", &aliases(&[("current", 3)]), &etag0)
        .await;
    let err = stale.expect_err("stale etag");
    assert!(
        matches!(err, SecretError::Conflict { ref secret } if secret == "api"),
        "{err}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        s.get_secret("api").await.unwrap().unwrap().aliases,
        aliases(&[("current", 1)])
    );

    let err = s
        .update_aliases("api", &aliases(&[("current", 7)]), &etag1)
        .await
        .expect_err("v7");
    assert!(
        matches!(&err, SecretError::NotFound { version: Some(v), .. } if v == "7"),
        "{err}"
    );
    for bad in ["latest", "NEW", "1st", "a.b"] {
        let err = s
            .update_aliases("api", &aliases(&[(bad, 1)]), &etag1)
            .await
            .expect_err(bad);
        assert!(
            matches!(err, SecretError::InvalidArgument { .. }),
            "{bad}: {err}"
        );
    }
    assert_eq!(
        s.get_secret("api").await.unwrap().unwrap().etag,
        etag1,
        "refusals change nothing"
    );

    let etag2 = s
        .update_aliases("api", &aliases(&[("current", 3), ("previous", 1)]), &etag1)
        .await
        .unwrap();
    let info = s.get_secret("api").await.unwrap().unwrap();
    assert_eq!(info.aliases, aliases(&[("current", 3), ("previous", 1)]));
    assert_eq!(info.alias("current"), Some(3));
    let etag3 = s
        .update_aliases("api", &BTreeMap::new(), &etag2)
        .await
        .unwrap();
    assert!(s
        .get_secret("api")
        .await
        .unwrap()
        .unwrap()
        .aliases
        .is_empty());
    assert_ne!(etag3, etag2);
    let err = s
        .update_aliases("missing", &BTreeMap::new(), &etag3)
        .await
        .expect_err("missing");
    assert!(matches!(err, SecretError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn disabled_and_destroyed_versions_cannot_be_read() {
    let f = fixture().await;
    let s = &*f.store;
    s.create_secret("db", &Labels::new()).await.unwrap();
    s.add_version("db", &secret("old-password")).await.unwrap();
    s.add_version("db", &secret("new-password")).await.unwrap();
    let etag = s.get_secret("db").await.unwrap().unwrap().etag;
    let etag = s
        .update_aliases("db", &aliases(&[("current", 2), ("previous", 1)]), &etag)
        .await
        .unwrap();

    s.disable_version("db", 1).await.unwrap();
    s.disable_version("db", 1)
        .await
        .expect("disabling twice is fine");
    assert_eq!(
        s.get_secret("db").await.unwrap().unwrap().version_state(1),
        Some(VersionState::Disabled)
    );
    for which in ["1", "previous"] {
        let err = read(s, "db", which).await.expect_err("disabled");
        assert!(
            matches!(&err, SecretError::InvalidState { version: Some(v), .. } if v == "1"),
            "{err}"
        );
    }
    assert_eq!(read(s, "db", "current").await.unwrap(), "new-password");
    s.enable_version("db", 1).await.unwrap();
    assert_eq!(read(s, "db", "previous").await.unwrap(), "old-password");

    let err = s
        .destroy_version("db", 1)
        .await
        .expect_err("an alias points at it");
    assert!(matches!(err, SecretError::InvalidState { .. }), "{err}");
    assert!(err.to_string().contains("previous"), "{err}");
    s.update_aliases("db", &aliases(&[("current", 2)]), &etag)
        .await
        .unwrap();
    s.destroy_version("db", 1).await.unwrap();
    s.destroy_version("db", 1)
        .await
        .expect("destroying twice is fine");

    let erased: bool = sqlx::query_scalar(
        "SELECT payload IS NULL FROM control.secret_versions WHERE secret = 'db' AND version = 1",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert!(erased, "a destroyed version keeps no payload");
    let err = read(s, "db", "1").await.expect_err("destroyed");
    assert!(matches!(err, SecretError::InvalidState { .. }), "{err}");
    for result in [
        s.enable_version("db", 1).await,
        s.disable_version("db", 1).await,
    ] {
        assert!(
            matches!(result, Err(SecretError::InvalidState { .. })),
            "{result:?}"
        );
    }
    let etag = s.get_secret("db").await.unwrap().unwrap().etag;
    let err = s
        .update_aliases("db", &aliases(&[("previous", 1)]), &etag)
        .await
        .expect_err("v1");
    assert!(matches!(err, SecretError::InvalidState { .. }), "{err}");

    let err = s.disable_version("db", 5).await.expect_err("no version 5");
    assert!(
        matches!(
            err,
            SecretError::NotFound {
                version: Some(_),
                ..
            }
        ),
        "{err}"
    );

    // Numbers are never reused, and `latest` is the newest version whatever its state.
    assert_eq!(s.add_version("db", &secret("third")).await.unwrap(), 3);
    s.disable_version("db", 3).await.unwrap();
    let err = read(s, "db", "latest")
        .await
        .expect_err("latest is disabled");
    assert!(
        matches!(&err, SecretError::InvalidState { version: Some(v), .. } if v == "3"),
        "{err}"
    );
    let states: Vec<_> = s
        .get_secret("db")
        .await
        .unwrap()
        .unwrap()
        .versions
        .iter()
        .map(|v| v.state)
        .collect();
    assert_eq!(
        states,
        [
            VersionState::Destroyed,
            VersionState::Enabled,
            VersionState::Disabled
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_alias_updates_with_one_etag_have_one_winner() {
    let f = fixture().await;
    f.store.create_secret("race", &Labels::new()).await.unwrap();
    for i in 0..8 {
        f.store
            .add_version("race", &secret(&format!("v{i}")))
            .await
            .unwrap();
    }
    warm(&f.pool, 8).await;
    for round in 0..10 {
        let etag = f.store.get_secret("race").await.unwrap().unwrap().etag;
        let tasks: Vec<_> = (1..=8u64)
            .map(|version| {
                let (store, etag) = (f.store.clone(), etag.clone());
                tokio::spawn(async move {
                    let wanted = aliases(&[("current", version), ("previous", 9 - version)]);
                    (version, store.update_aliases("race", &wanted, &etag).await)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (version, Ok(_)) => winners.push(version),
                (_, Err(SecretError::Conflict { .. })) => {}
                (_, Err(other)) => panic!("round {round}: expected a conflict, got {other}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one update wins: {winners:?}"
        );
        let info = f.store.get_secret("race").await.unwrap().unwrap();
        assert_eq!(
            info.aliases,
            aliases(&[("current", winners[0]), ("previous", 9 - winners[0])])
        );
        assert_ne!(info.etag, etag);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_adds_get_distinct_version_numbers() {
    let f = fixture().await;
    warm(&f.pool, 20).await;
    f.store.create_secret("many", &Labels::new()).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move {
                store
                    .add_version("many", &secret(&format!("value-{i}")))
                    .await
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap().unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=20).collect::<Vec<u64>>());
}

#[tokio::test]
async fn secrets_are_listed_by_labels_and_deleted_with_their_versions() {
    let f = fixture().await;
    let s = &*f.store;
    s.create_secret(
        "dev-a-db",
        &labels(&[("env", "a"), ("managed-by", "groundskeeper")]),
    )
    .await
    .unwrap();
    s.create_secret(
        "dev-b-db",
        &labels(&[("env", "b"), ("managed-by", "groundskeeper")]),
    )
    .await
    .unwrap();
    s.create_secret("hand-made", &labels(&[("env", "a")]))
        .await
        .unwrap();
    s.add_version("dev-a-db", &secret("pw")).await.unwrap();

    assert_eq!(
        s.list_secrets(&[("managed-by", "groundskeeper")])
            .await
            .unwrap(),
        ["dev-a-db", "dev-b-db"]
    );
    assert_eq!(
        s.list_secrets(&[("env", "a")]).await.unwrap(),
        ["dev-a-db", "hand-made"]
    );
    assert_eq!(
        s.list_secrets(&[("env", "a"), ("managed-by", "groundskeeper")])
            .await
            .unwrap(),
        ["dev-a-db"]
    );
    assert!(s
        .list_secrets(&[("env", "a"), ("env", "b")])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.list_secrets(&[]).await.unwrap().len(), 3);
    assert!(matches!(
        s.list_secrets(&[("Env", "a")]).await,
        Err(SecretError::InvalidArgument { .. })
    ));

    assert!(s.delete_secret("dev-a-db").await.unwrap());
    assert!(
        !s.delete_secret("dev-a-db").await.unwrap(),
        "deleting twice is not an error"
    );
    assert!(s.get_secret("dev-a-db").await.unwrap().is_none());
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM control.secret_versions WHERE secret = 'dev-a-db'",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "versions go with their secret");
    // A re-created secret starts again at version 1, as in Secret Manager.
    s.create_secret("dev-a-db", &Labels::new()).await.unwrap();
    assert_eq!(
        s.add_version("dev-a-db", &secret("again")).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn invalid_names_are_refused_before_any_sql() {
    let f = fixture().await;
    let s = &*f.store;
    for bad in ["", "a;drop table control.secrets", "x/y", &"n".repeat(256)] {
        let results = [
            s.create_secret(bad, &Labels::new()).await.map(|_| ()),
            s.get_secret(bad).await.map(|_| ()),
            s.add_version(bad, &secret("v")).await.map(|_| ()),
            s.access(bad, "latest").await.map(|_| ()),
            s.destroy_version(bad, 1).await,
            s.delete_secret(bad).await.map(|_| ()),
        ];
        for result in results {
            assert!(
                matches!(result, Err(SecretError::InvalidArgument { .. })),
                "{bad}: {result:?}"
            );
        }
    }
    let err = s
        .create_secret("ok", &labels(&[("Bad", "x")]))
        .await
        .expect_err("bad label");
    assert!(matches!(err, SecretError::InvalidArgument { .. }), "{err}");
    assert!(
        s.list_secrets(&[]).await.unwrap().is_empty(),
        "nothing was created"
    );
}

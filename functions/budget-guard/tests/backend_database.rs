//! Suspending an environment's database on a real PostgreSQL: idle sessions cut off, new
//! logins refused, the exact previous settings restored, conflicts left alone.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use budget_guard::backends::database::{DatabaseSettings, Databases};
use budget_guard::backends::{Backend, BackendError, Change, Restored};
use sqlx::{Connection, PgConnection, PgPool};
use testbed::Postgres;

const OPEN: DatabaseSettings = DatabaseSettings {
    allow_connections: true,
    connection_limit: -1,
};

/// A cluster, the backend over a superuser pool on `postgres`, and an environment database
/// `env_<unique>` with a login role `<db>_app` that may connect to it.
struct Env {
    pg: Postgres,
    admin: PgPool,
    backend: Databases,
    db: String,
}

impl Env {
    async fn start() -> Self {
        let pg = Postgres::start().await;
        let admin = PgPool::connect(&pg.admin_url()).await.unwrap();
        let db = testbed::unique_name("env").replace('-', "_");
        for statement in [
            format!("CREATE DATABASE {db}"),
            format!("CREATE ROLE {db}_app LOGIN"),
            format!("GRANT CONNECT ON DATABASE {db} TO {db}_app"),
        ] {
            sqlx::query(&statement).execute(&admin).await.unwrap();
        }
        let backend = Databases::new(admin.clone());
        Self {
            pg,
            admin,
            backend,
            db,
        }
    }

    async fn app_connect(&self) -> Result<PgConnection, sqlx::Error> {
        let url = format!(
            "postgres://{}_app@127.0.0.1:{}/{}",
            self.db,
            self.pg.port(),
            self.db
        );
        PgConnection::connect(&url).await
    }

    async fn alter(&self, option: &str) {
        let statement = format!("ALTER DATABASE {} WITH {option}", self.db);
        sqlx::query(&statement).execute(&self.admin).await.unwrap();
    }
}

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

#[tokio::test]
async fn suspension_cuts_idle_sessions_refuses_logins_and_restore_reopens() {
    let env = Env::start().await;
    let mut before = env.app_connect().await.expect("connects while open");
    sqlx::query("SELECT 1").execute(&mut before).await.unwrap();

    let previous = env.backend.read(&env.db).await.unwrap();
    assert_eq!(previous, OPEN);
    let applied = (env.backend.apply(&env.db, &previous, &Change::Stop))
        .await
        .unwrap();
    assert_eq!(applied.connection_limit, 0);
    assert_eq!(env.backend.read(&env.db).await.unwrap(), applied);

    assert!(
        sqlx::query("SELECT 1").execute(&mut before).await.is_err(),
        "the idle session was ended"
    );
    let refused = env.app_connect().await.expect_err("new logins are refused");
    assert_eq!(sqlstate(&refused).as_deref(), Some("53300"), "{refused}");
    // The platform's admin (a superuser) is exempt from the limit: not locked out.
    let mut admin_in = PgConnection::connect(&env.pg.url(&env.db)).await.unwrap();
    sqlx::query("SELECT 1")
        .execute(&mut admin_in)
        .await
        .unwrap();

    let restored = env.backend.restore(&env.db, &previous, &applied).await;
    assert_eq!(restored.unwrap(), Restored::Done);
    assert_eq!(env.backend.read(&env.db).await.unwrap(), OPEN);
    env.app_connect()
        .await
        .expect("connects again after the restore");
}

#[tokio::test]
async fn a_non_default_limit_is_restored_exactly_and_repeats_change_nothing() {
    let env = Env::start().await;
    env.alter("CONNECTION LIMIT 7").await;
    let previous = env.backend.read(&env.db).await.unwrap();
    assert_eq!(previous.connection_limit, 7);
    let cap = Change::Cap {
        max_instances: 3.try_into().unwrap(),
    };
    let applied = env.backend.apply(&env.db, &previous, &cap).await.unwrap();
    // A redelivery of the same apply finds it applied and returns the same settings.
    let again = env.backend.apply(&env.db, &previous, &cap).await.unwrap();
    assert_eq!(again, applied);

    let restored = env.backend.restore(&env.db, &previous, &applied).await;
    assert_eq!(restored.unwrap(), Restored::Done);
    let repeated = env.backend.restore(&env.db, &previous, &applied).await;
    assert_eq!(repeated.unwrap(), Restored::Done);
    assert_eq!(env.backend.read(&env.db).await.unwrap(), previous);
}

#[tokio::test]
async fn a_change_made_while_suspended_is_a_conflict_and_left_alone() {
    let env = Env::start().await;
    let previous = env.backend.read(&env.db).await.unwrap();
    let applied = (env.backend.apply(&env.db, &previous, &Change::Stop))
        .await
        .unwrap();
    env.alter("CONNECTION LIMIT 2").await;

    let restored = env.backend.restore(&env.db, &previous, &applied).await;
    let found = DatabaseSettings {
        allow_connections: true,
        connection_limit: 2,
    };
    assert_eq!(restored.unwrap(), Restored::Conflict { found });
    assert_eq!(env.backend.read(&env.db).await.unwrap(), found);
}

#[tokio::test]
async fn apply_refuses_when_the_database_changed_since_it_was_read() {
    let env = Env::start().await;
    let previous = env.backend.read(&env.db).await.unwrap();
    env.alter("ALLOW_CONNECTIONS false").await;

    let err = (env.backend.apply(&env.db, &previous, &Change::Stop))
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Changed { .. }), "{err}");
    let untouched = env.backend.read(&env.db).await.unwrap();
    assert_eq!(untouched.connection_limit, -1);
}

#[tokio::test]
async fn databases_other_than_environments_are_refused() {
    let env = Env::start().await;
    sqlx::query("CREATE DATABASE control")
        .execute(&env.admin)
        .await
        .unwrap();
    for name in [
        "postgres",
        "control",
        "env_x\"; DROP DATABASE control; --",
        "ENV_X",
    ] {
        let read = env.backend.read(name).await.unwrap_err();
        assert!(
            matches!(read, BackendError::Refused { .. }),
            "{name}: {read}"
        );
        let apply = env.backend.apply(name, &OPEN, &Change::Stop).await;
        let apply = apply.unwrap_err();
        assert!(
            matches!(apply, BackendError::Refused { .. }),
            "{name}: {apply}"
        );
    }
    let limits: Vec<i32> = sqlx::query_scalar(
        "SELECT datconnlimit FROM pg_database WHERE datname IN ('postgres', 'control')",
    )
    .fetch_all(&env.admin)
    .await
    .unwrap();
    assert_eq!(limits, [-1, -1]);
    let missing = env.backend.read("env_missing").await.unwrap_err();
    assert!(
        matches!(missing, BackendError::NotFound { .. }),
        "{missing}"
    );
}

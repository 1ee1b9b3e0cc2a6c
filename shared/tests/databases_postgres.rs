//! The managed PostgreSQL backend on a real server: environments are fenced off from each
//! other and from the platform's databases, and teardown removes roles even when an
//! environment left objects or privileges behind.

use events::names::DbIdent;
use secrecy::SecretString;
use shared::backends::databases::{DatabaseAdmin, DbError, PostgresAdmin};
use testbed::Postgres;

fn ident(name: &str) -> DbIdent {
    name.parse().expect("valid identifier")
}

struct Env {
    owner: DbIdent,
    login: DbIdent,
    database: DbIdent,
    password: SecretString,
}

/// Creates an environment's owner role, login role (with a password) and database.
async fn environment(admin: &PostgresAdmin, name: &str) -> Env {
    let env = Env {
        owner: ident(&format!("env_{name}_owner")),
        login: ident(&format!("env_{name}_login")),
        database: ident(&format!("env_{name}")),
        password: SecretString::from(format!("pw-{name}-correct-horse")),
    };
    admin
        .create_owner_role(&env.owner)
        .await
        .expect("owner role");
    admin
        .create_login_role(&env.login, &env.owner)
        .await
        .expect("login role");
    admin
        .create_database(&env.database, &env.owner, 10)
        .await
        .expect("database");
    admin
        .set_password(&env.login, &env.password)
        .await
        .expect("password");
    env
}

async fn server() -> (Postgres, PostgresAdmin) {
    let postgres = Postgres::start().await;
    postgres.require_passwords().await;
    let admin = PostgresAdmin::connect_lazy(&SecretString::from(postgres.admin_url()), None)
        .expect("admin");
    (postgres, admin)
}

#[tokio::test]
async fn an_environments_login_reaches_only_its_own_database() {
    let (_postgres, admin) = server().await;
    let a = environment(&admin, "a").await;
    let b = environment(&admin, "b").await;

    admin
        .test_login(&a.database, &a.login, &a.password)
        .await
        .expect("A's login reaches A's database");
    for database in [b.database.clone(), ident("postgres")] {
        let refused = admin.test_login(&database, &a.login, &a.password).await;
        assert!(
            matches!(refused, Err(DbError::LoginFailed { .. })),
            "A's login must not connect to {database}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn a_role_holding_objects_and_privileges_elsewhere_is_still_dropped() {
    let (postgres, admin) = server().await;
    let a = environment(&admin, "a").await;
    // What an environment's role can leave behind on a server that let it: an object it
    // owns and a privilege, in a database that outlives the environment.
    let elsewhere = postgres.fresh_database().await;
    let pool = sqlx::PgPool::connect(&elsewhere).await.expect("connect");
    for sql in [
        "CREATE TABLE left_behind (id int)".to_owned(),
        format!("ALTER TABLE left_behind OWNER TO {}", a.login.quoted()),
        "CREATE TABLE shared_table (id int)".to_owned(),
        format!("GRANT SELECT ON shared_table TO {}", a.owner.quoted()),
    ] {
        sqlx::query(&sql).execute(&pool).await.expect("setup");
    }
    // And a session still open as the login role.
    let session = sqlx::PgPool::connect(&format!(
        "postgres://env_a_login:pw-a-correct-horse@127.0.0.1:{}/env_a",
        postgres.port()
    ))
    .await
    .expect("A's session");
    sqlx::query("SELECT 1")
        .execute(&session)
        .await
        .expect("A works");

    admin
        .terminate_sessions(&a.database)
        .await
        .expect("terminate");
    admin
        .drop_database(&a.database)
        .await
        .expect("drop database");
    assert!(admin.drop_role(&a.login).await.expect("login role dropped"));
    assert!(admin.drop_role(&a.owner).await.expect("owner role dropped"));
    assert!(!admin.role_exists(&a.login).await.expect("lookup"));
    assert!(!admin.role_exists(&a.owner).await.expect("lookup"));
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'shared_table'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(kept, 1, "nobody else's object is dropped");
}

#[tokio::test]
async fn a_refusal_is_permanent_and_names_its_sqlstate() {
    let (_postgres, admin) = server().await;
    // A database owned by the role: DROP ROLE cannot proceed while it exists (2BP01).
    let a = environment(&admin, "a").await;
    let error = admin
        .drop_role(&a.owner)
        .await
        .expect_err("the owner of a live database is not dropped");
    assert!(!error.is_retryable(), "{error}");
    assert!(error.to_string().contains("2BP01"), "{error}");
}

#[tokio::test]
async fn the_control_database_is_closed_when_it_shares_the_server() {
    let (postgres, admin) = server().await;
    let control = postgres.fresh_database().await;
    let control = ident(control.rsplit('/').next().expect("database name"));
    let admin = admin.with_platform_databases([control.clone()]);
    let a = environment(&admin, "a").await;
    for database in [control, ident("template1")] {
        let refused = admin.test_login(&database, &a.login, &a.password).await;
        assert!(
            matches!(refused, Err(DbError::LoginFailed { .. })),
            "A's login must not connect to {database}: {refused:?}"
        );
    }
}

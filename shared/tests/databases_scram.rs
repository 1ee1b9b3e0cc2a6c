//! SCRAM-SHA-256 verifiers on a real PostgreSQL: a password outside ASCII logs in, and the
//! one limit left (a password SASLprep would change) is there because of how clients log in.

use events::names::DbIdent;
use secrecy::SecretString;
use shared::backends::databases::{DatabaseAdmin, DbError, PostgresAdmin};
use testbed::Postgres;

fn ident(name: &str) -> DbIdent {
    name.parse().expect("valid identifier")
}

/// A server that requires passwords, and a login role `env_NAME_login` that may connect to
/// its own database `env_NAME`.
async fn login_role(name: &str) -> (Postgres, PostgresAdmin, DbIdent, DbIdent) {
    let postgres = Postgres::start().await;
    postgres.require_passwords().await;
    let admin = PostgresAdmin::connect_lazy(&SecretString::from(postgres.admin_url()), None)
        .expect("admin");
    let (owner, login) = (
        ident(&format!("env_{name}_owner")),
        ident(&format!("env_{name}_login")),
    );
    let database = ident(&format!("env_{name}"));
    admin.create_owner_role(&owner).await.expect("owner role");
    admin
        .create_login_role(&login, &owner)
        .await
        .expect("login role");
    admin
        .create_database(&database, &owner, 10)
        .await
        .expect("database");
    (postgres, admin, database, login)
}

#[tokio::test]
async fn a_password_outside_ascii_logs_in() {
    let (_postgres, admin, database, login) = login_role("unicode").await;
    // Already in SASLprep's normal form (NFKC, no mapped characters): every client, with
    // or without SASLprep, derives the same key from it.
    let password = SecretString::from("pässwörd-ünïcödé-€-日本語-42");
    admin
        .set_password(&login, &password)
        .await
        .expect("a non-ASCII password is accepted");
    admin
        .test_login(&database, &login, &password)
        .await
        .expect("and logs in");
    let wrong = SecretString::from("passwörd-ünïcödé-€-日本語-42");
    let refused = admin.test_login(&database, &login, &wrong).await;
    assert!(
        matches!(refused, Err(DbError::LoginFailed { .. })),
        "{refused:?}"
    );
}

/// Why a password SASLprep would change is refused: the verifier is made from the prepared
/// form (as libpq's is), but sqlx logs in with the password as given, so the same string no
/// longer logs in — only its prepared form does.
#[tokio::test]
async fn a_password_saslprep_would_change_is_refused_because_sqlx_would_not_log_in() {
    use sqlx::{Connection, PgConnection};
    let (postgres, admin, database, login) = login_role("nbsp").await;
    let given = SecretString::from("correct\u{a0}horse");
    let refused = admin.set_password(&login, &given).await;
    match refused {
        Err(DbError::InvalidPassword { reason, .. }) => {
            assert!(reason.contains("SASLprep"), "{reason}");
            assert!(!reason.contains("horse"), "{reason}");
        }
        other => panic!("refused as an invalid password: {other:?}"),
    }

    // The same verifier made without our check, as libpq would make it.
    let verifier = postgres_protocol::password::scram_sha_256("correct\u{a0}horse".as_bytes());
    let mut conn = PgConnection::connect(&postgres.admin_url())
        .await
        .expect("admin connection");
    sqlx::raw_sql(&format!(
        "ALTER ROLE {} PASSWORD '{verifier}'",
        login.quoted()
    ))
    .execute(&mut conn)
    .await
    .expect("set the verifier");
    let as_given = admin.test_login(&database, &login, &given).await;
    assert!(
        matches!(as_given, Err(DbError::LoginFailed { .. })),
        "sqlx sends the password unprepared: {as_given:?}"
    );
    let prepared = SecretString::from("correct horse");
    admin
        .test_login(&database, &login, &prepared)
        .await
        .expect("the SASLprep form logs in");
}

//! Keeping environment roles where they belong.
//!
//! PostgreSQL grants CONNECT (and TEMPORARY) on every new database to `PUBLIC`, so by default
//! an environment's login could connect to `postgres`, `template1` (whose objects every new
//! database copies), the control database when it shares the server, and — on PostgreSQL ≤ 14,
//! where `PUBLIC` may also create in `public` — leave objects there that later block
//! `DROP ROLE`. Privileges cannot be denied to one role, so the platform's databases are
//! closed to `PUBLIC` instead and opened to the admin by name. Roles that legitimately use
//! those databases need a grant of their own (the local stack uses the superuser).
//!
//! Teardown still copes with a role that collected objects or privileges elsewhere: it hands
//! the objects to the admin and revokes the privileges, database by database, before dropping
//! the role (nothing of anyone else is deleted).

use events::names::DbIdent;
use sqlx::{postgres::PgConnectOptions, Connection, PgConnection};

use super::{classify, PostgresAdmin};
use crate::backends::databases::DbError;

/// The platform databases of every server: the maintenance database and the template.
pub(super) fn default_platform_databases() -> Vec<DbIdent> {
    ["postgres", "template1"]
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect()
}

impl PostgresAdmin {
    /// Also closes these databases to environment roles (the control database, when it
    /// shares the managed server). `postgres` and `template1` always are.
    pub fn with_platform_databases(mut self, databases: impl IntoIterator<Item = DbIdent>) -> Self {
        for database in databases {
            if !self.platform_databases.contains(&database) {
                self.platform_databases.push(database);
            }
        }
        self
    }

    /// Revokes CONNECT and TEMPORARY from `PUBLIC` on the platform databases that exist, after
    /// granting CONNECT to the admin itself. Idempotent; run with every environment creation.
    pub(super) async fn fence_platform_databases(&self) -> Result<(), DbError> {
        let names: Vec<String> = self
            .platform_databases
            .iter()
            .map(|d| d.to_string())
            .collect();
        let action = "close the platform databases to environment roles";
        // Only databases still open to PUBLIC need work, so the usual case (already fenced)
        // reads and writes nothing. Only databases whose owner the admin acts as can have
        // their grants changed: on Cloud SQL `template1` belongs to `cloudsqladmin`, out of
        // the admin's reach (and of environment roles' too), and trying would fail every
        // creation.
        let open: Vec<(String, bool)> = sqlx::query_as(
            "SELECT datname, pg_has_role(datdba, 'USAGE') FROM pg_database \
              WHERE datname = ANY($1) \
                AND (has_database_privilege('public', datname, 'CONNECT') \
                  OR has_database_privilege('public', datname, 'TEMPORARY'))",
        )
        .bind(&names)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| classify(action, e))?;
        let (fenceable, out_of_reach): (Vec<_>, Vec<_>) =
            open.into_iter().partition(|(_, owned)| *owned);
        if !out_of_reach.is_empty() {
            tracing::debug!(databases = ?out_of_reach, "not fenced: owned by a role the admin is not");
        }
        let to_fence = self
            .platform_databases
            .iter()
            .filter(|d| fenceable.iter().any(|(name, _)| name == d.as_str()));
        for database in to_fence {
            let d = database.quoted();
            // One implicit transaction, serialised across concurrent creations: two sessions
            // changing one database's ACL at once fail with "tuple concurrently updated".
            let sql = format!(
                "SELECT pg_advisory_xact_lock(hashtextextended('groundskeeper.fence', 0)); \
                 GRANT CONNECT ON DATABASE {d} TO CURRENT_USER; \
                 REVOKE CONNECT, TEMPORARY ON DATABASE {d} FROM PUBLIC;"
            );
            self.ddl(action, &sql).await?;
        }
        Ok(())
    }

    /// Ends `role`'s sessions and clears what it owns or holds in other databases, so that
    /// `DROP ROLE` can succeed. A role that owns a database is left as is: the database must
    /// be dropped first, and `DROP ROLE` then refuses (2BP01) with that reason.
    pub(super) async fn clear_role(&self, role: &DbIdent, action: &str) -> Result<(), DbError> {
        sqlx::query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE usename = $1 AND pid <> pg_backend_pid()",
        )
        .bind(role.as_str())
        .execute(&self.pool)
        .await
        .map_err(|e| classify(action, e))?;
        let owns_database: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
                             WHERE r.rolname = $1)",
        )
        .bind(role.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| classify(action, e))?;
        if owns_database {
            return Ok(());
        }
        // pg_shdepend, a shared catalog, lists every database where the role owns an object
        // or holds a privilege; REASSIGN/DROP OWNED act in one database at a time.
        let databases: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT d.datname FROM pg_shdepend s
               JOIN pg_database d ON d.oid = s.dbid
               JOIN pg_roles r ON r.oid = s.refobjid
              WHERE s.refclassid = 'pg_authid'::regclass AND r.rolname = $1
                AND d.datallowconn",
        )
        .bind(role.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| classify(action, e))?;
        let r = role.quoted();
        // Membership lets a non-superuser admin (Cloud SQL) reassign the role's objects.
        let clear = [
            format!("GRANT {r} TO CURRENT_USER"),
            format!("REASSIGN OWNED BY {r} TO CURRENT_USER"),
            format!("DROP OWNED BY {r}"),
        ];
        for database in databases {
            let options = self.options.clone().database(&database);
            run_in(options, &clear)
                .await
                .map_err(|e| classify(&format!("{action}: clear it in {database:?}"), e))?;
        }
        Ok(())
    }
}

/// Runs statements one by one on a connection of their own (to another database).
async fn run_in(options: PgConnectOptions, statements: &[String]) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect_with(&options).await?;
    for statement in statements {
        sqlx::query(statement).execute(&mut conn).await?;
    }
    conn.close().await
}

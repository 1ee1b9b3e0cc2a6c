//! [`DatabaseAdmin`] over SQL with sqlx: the local PostgreSQL and Cloud SQL alike.
//!
//! Identifiers are [`DbIdent`]s, spliced only through [`DbIdent::quoted`]; the only other
//! values in DDL are numbers and SCRAM verifiers ([`scram`]). Values in queries are bound.

use std::time::Duration;

use async_trait::async_trait;
use events::names::DbIdent;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgPool,
};

use super::{
    scram,
    sqlstate::{classify, sqlstate},
    DatabaseAdmin, DbError, ServerEndpoint,
};

mod fence;

/// How long a login test may take before it counts as the server being unavailable.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Administers a PostgreSQL server through an admin connection pool.
#[derive(Debug, Clone)]
pub struct PostgresAdmin {
    pool: PgPool,
    options: PgConnectOptions,
    endpoint: ServerEndpoint,
    platform_databases: Vec<DbIdent>,
}

impl PostgresAdmin {
    /// An admin over `admin_url` (connects on first use). `endpoint` is what clients are
    /// told; by default the admin URL's host, port and sslmode.
    pub fn connect_lazy(
        admin_url: &SecretString,
        endpoint: Option<ServerEndpoint>,
    ) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = admin_url.expose_secret().parse()?;
        // Backslashes in literals must stay literal (see `scram::quote_literal`).
        let options = options.options([("standard_conforming_strings", "on")]);
        let endpoint = endpoint.unwrap_or_else(|| ServerEndpoint {
            host: options.get_host().to_owned(),
            port: options.get_port(),
            sslmode: options.get_ssl_mode().into(),
        });
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(options.clone());
        Ok(Self {
            pool,
            options,
            endpoint,
            platform_databases: fence::default_platform_databases(),
        })
    }

    /// Overrides what clients are told (`MANAGED_DATABASE_HOST` / `_PORT` / `_SSLMODE`).
    pub fn with_public_address(mut self, public: &crate::config::PublicAddress) -> Self {
        if let Some(host) = &public.host {
            self.endpoint.host = host.clone();
        }
        if let Some(port) = public.port {
            self.endpoint.port = port;
        }
        if let Some(sslmode) = public.sslmode {
            self.endpoint.sslmode = sslmode;
        }
        self
    }

    /// The admin pool (for tests and for checks a service makes itself).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn ddl(&self, action: &str, sql: &str) -> Result<(), DbError> {
        self.raw(sql).await.map_err(|e| classify(action, e))
    }

    async fn raw(&self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(sql).execute(&self.pool).await.map(drop)
    }

    async fn exists(&self, action: &str, sql: &str, name: &DbIdent) -> Result<bool, DbError> {
        sqlx::query_scalar::<_, bool>(sql)
            .bind(name.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| classify(action, e))
    }
}

/// A creation that lost a race: 42710 duplicate_object (role), 42P04 duplicate_database.
fn is_duplicate(error: &sqlx::Error) -> bool {
    matches!(sqlstate(error).as_deref(), Some("42710" | "42P04"))
}

#[async_trait]
impl DatabaseAdmin for PostgresAdmin {
    fn endpoint(&self) -> &ServerEndpoint {
        &self.endpoint
    }

    async fn role_exists(&self, role: &DbIdent) -> Result<bool, DbError> {
        let sql = "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)";
        self.exists(&format!("look up role {}", role.quoted()), sql, role)
            .await
    }

    async fn database_exists(&self, database: &DbIdent) -> Result<bool, DbError> {
        let sql = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)";
        self.exists(
            &format!("look up database {}", database.quoted()),
            sql,
            database,
        )
        .await
    }

    async fn create_owner_role(&self, role: &DbIdent) -> Result<bool, DbError> {
        let (r, action) = (role.quoted(), format!("create role {}", role.quoted()));
        let grant = format!("GRANT {r} TO CURRENT_USER;");
        if self.role_exists(role).await? {
            self.ddl(&action, &grant).await?;
            return Ok(false);
        }
        // One simple-query string runs as one transaction: the role never exists alone.
        match self.raw(&format!("CREATE ROLE {r} NOLOGIN; {grant}")).await {
            Err(e) if is_duplicate(&e) => self.ddl(&action, &grant).await.map(|()| false),
            Err(e) => Err(classify(&action, e)),
            Ok(()) => Ok(true),
        }
    }

    async fn create_login_role(&self, role: &DbIdent, owner: &DbIdent) -> Result<bool, DbError> {
        let (r, o, action) = (
            role.quoted(),
            owner.quoted(),
            format!("create role {}", role.quoted()),
        );
        let owner_literal = scram::quote_literal(owner.as_str()).unwrap_or_default();
        let settle = format!("GRANT {o} TO {r}; ALTER ROLE {r} SET role = {owner_literal};");
        if self.role_exists(role).await? {
            self.ddl(&action, &settle).await?;
            return Ok(false);
        }
        let create = format!("CREATE ROLE {r} LOGIN INHERIT IN ROLE {o}; {settle}");
        match self.raw(&create).await {
            Err(e) if is_duplicate(&e) => self.ddl(&action, &settle).await.map(|()| false),
            Err(e) => Err(classify(&action, e)),
            Ok(()) => Ok(true),
        }
    }

    async fn create_database(
        &self,
        database: &DbIdent,
        owner: &DbIdent,
        connection_limit: u32,
    ) -> Result<bool, DbError> {
        let (d, o) = (database.quoted(), owner.quoted());
        let action = format!("create database {d}");
        let limit = i32::try_from(connection_limit).unwrap_or(i32::MAX);
        let created = if self.database_exists(database).await? {
            false
        } else {
            // CREATE DATABASE cannot run in a transaction, so it goes alone; the revoke that
            // follows is re-applied on every call, so a crash in between is repaired.
            let create = format!("CREATE DATABASE {d} OWNER {o} CONNECTION LIMIT {limit}");
            match self.raw(&create).await {
                Err(e) if is_duplicate(&e) => false,
                Err(e) => return Err(classify(&action, e)),
                Ok(()) => true,
            }
        };
        // Only the owner's members connect: the owner role (and through it the logins)
        // gets CONNECT explicitly, PUBLIC (every other environment's login) nothing.
        let settle = format!(
            "ALTER DATABASE {d} CONNECTION LIMIT {limit}; REVOKE ALL ON DATABASE {d} FROM PUBLIC; \
             GRANT CONNECT, TEMPORARY ON DATABASE {d} TO {o};"
        );
        self.ddl(&action, &settle).await?;
        self.fence_platform_databases().await?;
        Ok(created)
    }

    async fn set_password(&self, role: &DbIdent, password: &SecretString) -> Result<(), DbError> {
        let invalid = |reason: String| DbError::InvalidPassword {
            role: role.to_string(),
            reason,
        };
        let verifier = scram::verifier(password).map_err(|e| invalid(e.to_string()))?;
        let literal =
            scram::quote_literal(&verifier).ok_or_else(|| invalid("NUL in verifier".into()))?;
        let sql = format!("ALTER ROLE {} WITH PASSWORD {literal}", role.quoted());
        self.ddl(&format!("set the password of {}", role.quoted()), &sql)
            .await
    }

    async fn test_login(
        &self,
        database: &DbIdent,
        role: &DbIdent,
        password: &SecretString,
    ) -> Result<(), DbError> {
        let options = self
            .options
            .clone()
            .username(role.as_str())
            .password(password.expose_secret())
            .database(database.as_str());
        let action = format!("log in as {} to {}", role.quoted(), database.quoted());
        let login = async {
            let mut conn = PgConnection::connect_with(&options).await?;
            sqlx::query("SELECT 1").execute(&mut conn).await?;
            conn.close().await
        };
        match tokio::time::timeout(LOGIN_TIMEOUT, login).await {
            Err(_) => Err(DbError::Unavailable {
                action,
                reason: "timed out".into(),
            }),
            Ok(Ok(())) => Ok(()),
            // 28xxx authorization, 42501 no CONNECT privilege, 3D000 no such database.
            Ok(Err(e))
                if sqlstate(&e)
                    .is_some_and(|c| c.starts_with("28") || c == "42501" || c == "3D000") =>
            {
                let reason = match classify(&action, e) {
                    DbError::Refused { reason, .. } | DbError::Unavailable { reason, .. } => reason,
                    other => other.to_string(),
                };
                Err(DbError::LoginFailed {
                    role: role.to_string(),
                    database: database.to_string(),
                    reason,
                })
            }
            Ok(Err(e)) => Err(classify(&action, e)),
        }
    }

    async fn terminate_sessions(&self, database: &DbIdent) -> Result<u64, DbError> {
        if !self.database_exists(database).await? {
            return Ok(0);
        }
        let action = format!("terminate sessions of {}", database.quoted());
        // Closed first, so nothing reconnects between the terminate and a drop.
        self.ddl(
            &action,
            &format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS false",
                database.quoted()
            ),
        )
        .await?;
        let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                   WHERE datname = $1 AND pid <> pg_backend_pid()";
        let terminated: i64 = sqlx::query_scalar(sql)
            .bind(database.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| classify(&action, e))?;
        Ok(u64::try_from(terminated).unwrap_or(0))
    }

    async fn drop_database(&self, database: &DbIdent) -> Result<bool, DbError> {
        if !self.database_exists(database).await? {
            return Ok(false);
        }
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", database.quoted());
        self.ddl(&format!("drop database {}", database.quoted()), &sql)
            .await
            .map(|()| true)
    }

    async fn drop_role(&self, role: &DbIdent) -> Result<bool, DbError> {
        if !self.role_exists(role).await? {
            return Ok(false);
        }
        let action = format!("drop role {}", role.quoted());
        self.clear_role(role, &action).await?;
        let sql = format!("DROP ROLE IF EXISTS {}", role.quoted());
        self.ddl(&action, &sql).await.map(|()| true)
    }
}

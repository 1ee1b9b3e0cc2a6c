//! The PostgreSQL servers whose databases groundskeeper manages: Cloud SQL for PostgreSQL
//! over its private IP (or the Cloud SQL connector's socket) in production, a local
//! PostgreSQL in the local stack. Both speak plain SQL, so one implementation,
//! [`PostgresAdmin`], serves them; [`DryRunDatabases`] records into a plan instead.
//!
//! Every name is a [`DbIdent`], valid by construction (`[a-z_][a-z0-9_]*`), so quoting it can
//! never change a statement's meaning. PostgreSQL takes no bind parameters in DDL; how
//! passwords reach the server without string-built SQL is explained in [`scram`].
//!
//! The operations are idempotent building blocks: creations report whether they created
//! something, drops whether something was there, and both succeed when the work is already
//! done, so a redelivered event can run them again.

mod dry_run;
mod postgres;
pub mod scram;
mod sqlstate;

pub use dry_run::DryRunDatabases;
pub use postgres::PostgresAdmin;

use async_trait::async_trait;
use events::names::DbIdent;
use secrecy::SecretString;

/// Where clients reach the managed server: what goes into an environment's credentials.
/// It may differ from the address the admin connection uses (a socket, a tunnel).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerEndpoint {
    /// Host name or IP address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// libpq `sslmode` clients should use.
    pub sslmode: crate::credential::SslMode,
}

/// Why a database operation failed. Messages name the object, never a password.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The server could not be reached or dropped the connection: worth a retry.
    #[error("{action}: database server unavailable: {reason}")]
    Unavailable {
        /// What was being done, e.g. `create role "env_x_owner"`.
        action: String,
        /// What the driver said.
        reason: String,
    },
    /// The server refused (permission denied, dependent objects, invalid request): retrying
    /// the same thing will not help. Which SQLSTATEs count as transient is decided in one
    /// place, by code.
    #[error("{action}: refused by the database server: {reason}")]
    Refused {
        /// What was being done.
        action: String,
        /// The server's message and SQLSTATE.
        reason: String,
    },
    /// A login with the given password failed (wrong password, no CONNECT privilege).
    #[error("login as {role} to {database} failed: {reason}")]
    LoginFailed {
        /// The role that tried to log in.
        role: String,
        /// The database.
        database: String,
        /// The server's message.
        reason: String,
    },
    /// The password cannot be used (empty, or characters PostgreSQL would normalise).
    #[error("unusable password for {role}: {reason}")]
    InvalidPassword {
        /// The role.
        role: String,
        /// What is wrong with it (never the password itself).
        reason: String,
    },
}

impl DbError {
    /// Whether a retry of the same operation may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DbError::Unavailable { .. })
    }
}

/// Administers roles and databases on one managed PostgreSQL server, as an admin role
/// (a superuser locally; a `cloudsqlsuperuser` member on Cloud SQL).
#[async_trait]
pub trait DatabaseAdmin: Send + Sync {
    /// Where clients reach the server.
    fn endpoint(&self) -> &ServerEndpoint;

    /// Whether the role exists.
    async fn role_exists(&self, role: &DbIdent) -> Result<bool, DbError>;

    /// Whether the database exists.
    async fn database_exists(&self, database: &DbIdent) -> Result<bool, DbError>;

    /// Creates a NOLOGIN role meant to own a database and its objects, and makes the admin a
    /// member (Cloud SQL's admin is no superuser: it must be a member to create a database
    /// owned by the role and to drop it later). Returns `false` if the role existed.
    async fn create_owner_role(&self, role: &DbIdent) -> Result<bool, DbError>;

    /// Creates a LOGIN role that inherits `owner` and switches to it on login
    /// (`ALTER ROLE … SET role`), so every object it creates belongs to `owner`. Atomic: the
    /// role never exists without that setting. Returns `false` if the role existed (the
    /// membership and setting are applied again either way).
    async fn create_login_role(&self, role: &DbIdent, owner: &DbIdent) -> Result<bool, DbError>;

    /// Creates a database owned by `owner` with a connection limit, and revokes every
    /// privilege (CONNECT, TEMPORARY) from `PUBLIC`, so only `owner`'s members can connect:
    /// no other environment's login. It also keeps environment roles out of the platform's
    /// databases on the server (see [`PostgresAdmin::with_platform_databases`]). The revokes
    /// and the limit are applied again when the database existed (returns `false`).
    async fn create_database(
        &self,
        database: &DbIdent,
        owner: &DbIdent,
        connection_limit: u32,
    ) -> Result<bool, DbError>;

    /// Sets a role's password. The password never travels in clear text (see [`scram`]).
    async fn set_password(&self, role: &DbIdent, password: &SecretString) -> Result<(), DbError>;

    /// Logs in to `database` as `role` with `password` and runs `SELECT 1`: proves a
    /// credential works before anyone is told to use it.
    async fn test_login(
        &self,
        database: &DbIdent,
        role: &DbIdent,
        password: &SecretString,
    ) -> Result<(), DbError>;

    /// Stops new connections to the database and terminates the open ones; returns how many
    /// were terminated. Zero when the database does not exist.
    async fn terminate_sessions(&self, database: &DbIdent) -> Result<u64, DbError>;

    /// Drops the database (forcing out sessions). Returns `false` if it did not exist.
    async fn drop_database(&self, database: &DbIdent) -> Result<bool, DbError>;

    /// Drops the role, first ending its sessions and, in every database where it still owns
    /// objects or holds privileges, handing its objects to the admin and revoking its
    /// privileges — unless it owns a database, which must be dropped first (a permanent
    /// [`DbError::Refused`], SQLSTATE 2BP01). Returns `false` if it did not exist.
    async fn drop_role(&self, role: &DbIdent) -> Result<bool, DbError>;
}

//! The dry-run database admin: touches no server, records each change into the [`Plan`]
//! (names and limits, never a password), and sees an empty server on every read.

use async_trait::async_trait;
use events::names::DbIdent;
use secrecy::SecretString;
use serde_json::json;

use super::{DatabaseAdmin, DbError, ServerEndpoint};
use crate::backends::Plan;

/// Records planned database changes; nothing exists.
#[derive(Debug, Clone)]
pub struct DryRunDatabases {
    plan: Plan,
    endpoint: ServerEndpoint,
}

impl DryRunDatabases {
    /// An admin recording into `plan`, reporting `endpoint` to clients.
    pub fn new(plan: Plan, endpoint: ServerEndpoint) -> Self {
        Self { plan, endpoint }
    }

    fn record(&self, action: &str, details: serde_json::Value) {
        let mut entry = json!({ "backend": "databases", "action": action });
        if let (Some(entry), serde_json::Value::Object(details)) = (entry.as_object_mut(), details)
        {
            entry.extend(details);
        }
        self.plan.record(entry);
    }
}

#[async_trait]
impl DatabaseAdmin for DryRunDatabases {
    fn endpoint(&self) -> &ServerEndpoint {
        &self.endpoint
    }

    async fn role_exists(&self, _role: &DbIdent) -> Result<bool, DbError> {
        Ok(false)
    }

    async fn database_exists(&self, _database: &DbIdent) -> Result<bool, DbError> {
        Ok(false)
    }

    async fn create_owner_role(&self, role: &DbIdent) -> Result<bool, DbError> {
        self.record("create_owner_role", json!({ "role": role }));
        Ok(true)
    }

    async fn create_login_role(&self, role: &DbIdent, owner: &DbIdent) -> Result<bool, DbError> {
        self.record("create_login_role", json!({ "role": role, "owner": owner }));
        Ok(true)
    }

    async fn create_database(
        &self,
        database: &DbIdent,
        owner: &DbIdent,
        connection_limit: u32,
    ) -> Result<bool, DbError> {
        let details =
            json!({ "database": database, "owner": owner, "connection_limit": connection_limit });
        self.record("create_database", details);
        Ok(true)
    }

    async fn set_password(&self, role: &DbIdent, _password: &SecretString) -> Result<(), DbError> {
        self.record("set_password", json!({ "role": role }));
        Ok(())
    }

    async fn test_login(
        &self,
        database: &DbIdent,
        role: &DbIdent,
        _password: &SecretString,
    ) -> Result<(), DbError> {
        self.record("test_login", json!({ "database": database, "role": role }));
        Ok(())
    }

    async fn terminate_sessions(&self, database: &DbIdent) -> Result<u64, DbError> {
        self.record("terminate_sessions", json!({ "database": database }));
        Ok(0)
    }

    async fn drop_database(&self, database: &DbIdent) -> Result<bool, DbError> {
        self.record("drop_database", json!({ "database": database }));
        Ok(false)
    }

    async fn drop_role(&self, role: &DbIdent) -> Result<bool, DbError> {
        self.record("drop_role", json!({ "role": role }));
        Ok(false)
    }
}

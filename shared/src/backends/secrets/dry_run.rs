//! The dry-run secret store: touches nothing, records each write into the [`Plan`] (names,
//! labels, versions and aliases — never a payload), and sees an empty store on every read.

use super::validate::{validate_aliases, validate_label, validate_labels, VersionRef};
use super::{validate_secret_name, Labels, SecretError, SecretInfo, SecretStore};
use crate::backends::Plan;
use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::json;
use std::collections::BTreeMap;

/// Version number returned by [`DryRunSecretStore::add_version`]: no version was created.
pub const DRY_RUN_VERSION: u64 = 0;

/// Etag returned by [`DryRunSecretStore::update_aliases`].
pub const DRY_RUN_ETAG: &str = "dry-run";

/// Records planned secret writes; reads find nothing.
#[derive(Debug, Clone)]
pub struct DryRunSecretStore {
    plan: Plan,
}

impl DryRunSecretStore {
    /// A store recording into `plan`.
    pub fn new(plan: Plan) -> Self {
        Self { plan }
    }

    fn record(&self, action: &str, secret: &str, details: serde_json::Value) {
        let mut entry = json!({ "backend": "secrets", "action": action, "secret": secret });
        if let (Some(entry), serde_json::Value::Object(details)) = (entry.as_object_mut(), details)
        {
            entry.extend(details);
        }
        self.plan.record(entry);
    }

    fn version_action(&self, action: &str, name: &str, version: u64) -> Result<(), SecretError> {
        validate_secret_name(name)?;
        self.record(action, name, json!({ "version": version }));
        Ok(())
    }
}

#[async_trait]
impl SecretStore for DryRunSecretStore {
    async fn create_secret(&self, name: &str, labels: &Labels) -> Result<bool, SecretError> {
        validate_secret_name(name)?;
        validate_labels(name, labels)?;
        self.record("create_secret", name, json!({ "labels": labels }));
        Ok(true)
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretInfo>, SecretError> {
        validate_secret_name(name)?;
        Ok(None)
    }

    async fn add_version(&self, name: &str, _payload: &SecretString) -> Result<u64, SecretError> {
        validate_secret_name(name)?;
        self.record("add_version", name, json!({}));
        Ok(DRY_RUN_VERSION)
    }

    async fn access(&self, name: &str, which: &str) -> Result<SecretString, SecretError> {
        validate_secret_name(name)?;
        VersionRef::parse(name, which)?;
        Err(SecretError::not_found(name))
    }

    async fn update_aliases(
        &self,
        name: &str,
        aliases: &BTreeMap<String, u64>,
        _etag: &str,
    ) -> Result<String, SecretError> {
        validate_secret_name(name)?;
        validate_aliases(name, aliases)?;
        self.record("update_aliases", name, json!({ "aliases": aliases }));
        Ok(DRY_RUN_ETAG.to_owned())
    }

    async fn disable_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.version_action("disable_version", name, version)
    }

    async fn enable_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.version_action("enable_version", name, version)
    }

    async fn destroy_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.version_action("destroy_version", name, version)
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, SecretError> {
        validate_secret_name(name)?;
        self.record("delete_secret", name, json!({}));
        Ok(true)
    }

    async fn list_secrets(
        &self,
        label_filter: &[(&str, &str)],
    ) -> Result<Vec<String>, SecretError> {
        for (key, value) in label_filter {
            validate_label("*", key, value)?;
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[tokio::test]
    async fn records_writes_without_the_value_and_reads_nothing() {
        let plan = Plan::default();
        let store = DryRunSecretStore::new(plan.clone());
        let labels: Labels = [("env".to_owned(), "shop".to_owned())].into();
        assert!(store.create_secret("dev-shop-db", &labels).await.unwrap());
        let password = SecretString::from("hunter2-very-secret".to_owned());
        assert_eq!(
            store.add_version("dev-shop-db", &password).await.unwrap(),
            DRY_RUN_VERSION
        );
        let aliases = BTreeMap::from([("current".to_owned(), 1)]);
        assert_eq!(
            store
                .update_aliases("dev-shop-db", &aliases, "x")
                .await
                .unwrap(),
            DRY_RUN_ETAG
        );
        store.disable_version("dev-shop-db", 1).await.unwrap();
        store.destroy_version("dev-shop-db", 1).await.unwrap();
        assert!(store.delete_secret("dev-shop-db").await.unwrap());

        assert!(store.get_secret("dev-shop-db").await.unwrap().is_none());
        let read = store
            .access("dev-shop-db", "current")
            .await
            .expect_err("nothing to read");
        assert!(matches!(read, SecretError::NotFound { .. }), "{read}");
        assert!(store
            .list_secrets(&[("env", "shop")])
            .await
            .unwrap()
            .is_empty());

        let actions = plan.actions();
        let names: Vec<&str> = actions
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "create_secret",
                "add_version",
                "update_aliases",
                "disable_version",
                "destroy_version",
                "delete_secret"
            ]
        );
        assert_eq!(actions[0]["labels"], json!({ "env": "shop" }));
        assert_eq!(actions[2]["aliases"], json!({ "current": 1 }));
        assert_eq!(actions[4]["version"], json!(1));
        assert!(actions
            .iter()
            .all(|a| a["secret"] == "dev-shop-db" && a["backend"] == "secrets"));
        assert!(!serde_json::to_string(&actions).unwrap().contains("hunter2"));
    }

    #[tokio::test]
    async fn refuses_invalid_names_before_recording() {
        let plan = Plan::default();
        let store = DryRunSecretStore::new(plan.clone());
        let err = store
            .create_secret("a;drop", &Labels::new())
            .await
            .expect_err("invalid");
        assert!(matches!(err, SecretError::InvalidArgument { .. }), "{err}");
        assert!(plan.actions().is_empty());
    }
}

//! The secret store on Google Cloud Secret Manager, through the official client
//! (`google-cloud-secretmanager-v1`). Secrets live at `projects/{project}/secrets/{name}`;
//! aliases are the secret's `version_aliases`, replaced with `UpdateSecret` under its etag.

mod convert;
mod versions;

use super::validate::{validate_aliases, validate_label, validate_labels};
use super::{validate_secret_name, Labels, SecretError, SecretInfo, SecretStore, VersionState};
use async_trait::async_trait;
use convert::{classify, short_name, to_info};
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::paginator::ItemPaginator;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::{replication, Replication, Secret};
use secrecy::SecretString;
use std::collections::BTreeMap;

/// Versioned secrets in Secret Manager.
#[derive(Debug, Clone)]
pub struct SecretManagerStore {
    client: SecretManagerService,
    project: String,
}

impl SecretManagerStore {
    /// A store over an existing client (in tests, one built with `from_stub`).
    pub fn new(client: SecretManagerService, project: impl Into<String>) -> Self {
        Self {
            client,
            project: project.into(),
        }
    }

    /// A store with a client using Application Default Credentials.
    pub async fn connect(
        project: impl Into<String>,
    ) -> Result<Self, google_cloud_gax::client_builder::Error> {
        Ok(Self::new(
            SecretManagerService::builder().build().await?,
            project,
        ))
    }

    fn secret(&self, name: &str) -> String {
        format!("projects/{}/secrets/{name}", self.project)
    }

    fn version(&self, name: &str, version: impl std::fmt::Display) -> String {
        format!(
            "projects/{}/secrets/{name}/versions/{version}",
            self.project
        )
    }

    async fn fetch_secret(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        match self
            .client
            .get_secret()
            .set_name(self.secret(name))
            .send()
            .await
        {
            Ok(secret) => Ok(Some(secret)),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(None),
            Err(e) => Err(classify(name, None, e)),
        }
    }
}

fn code(e: &google_cloud_secretmanager_v1::Error) -> Option<Code> {
    e.status().map(|s| s.code)
}

#[async_trait]
impl SecretStore for SecretManagerStore {
    async fn create_secret(&self, name: &str, labels: &Labels) -> Result<bool, SecretError> {
        validate_secret_name(name)?;
        validate_labels(name, labels)?;
        let secret = Secret::new()
            .set_replication(Replication::new().set_automatic(replication::Automatic::new()))
            .set_labels(labels.clone());
        let created = self
            .client
            .create_secret()
            .set_parent(format!("projects/{}", self.project))
            .set_secret_id(name)
            .set_secret(secret)
            .send()
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some(Code::AlreadyExists) => {
                let existing = self
                    .fetch_secret(name)
                    .await?
                    .ok_or_else(|| SecretError::not_found(name))?;
                let existing: Labels = existing.labels.into_iter().collect();
                if &existing != labels {
                    let reason = format!("exists with different labels {existing:?}");
                    return Err(SecretError::invalid_state(name, None, reason));
                }
                Ok(false)
            }
            Err(e) => Err(classify(name, None, e)),
        }
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretInfo>, SecretError> {
        validate_secret_name(name)?;
        let Some(secret) = self.fetch_secret(name).await? else {
            return Ok(None);
        };
        let mut versions = Vec::new();
        let mut items = self
            .client
            .list_secret_versions()
            .set_parent(self.secret(name))
            .by_item();
        while let Some(item) = items.next().await {
            match item {
                Ok(version) => versions.push(version),
                // Deleted between the two calls.
                Err(e) if code(&e) == Some(Code::NotFound) => return Ok(None),
                Err(e) => return Err(classify(name, None, e)),
            }
        }
        to_info(name, secret, versions).map(Some)
    }

    async fn add_version(&self, name: &str, payload: &SecretString) -> Result<u64, SecretError> {
        self.add(name, payload).await
    }

    async fn access(&self, name: &str, which: &str) -> Result<SecretString, SecretError> {
        self.read(name, which).await
    }

    async fn update_aliases(
        &self,
        name: &str,
        aliases: &BTreeMap<String, u64>,
        etag: &str,
    ) -> Result<String, SecretError> {
        validate_secret_name(name)?;
        validate_aliases(name, aliases)?;
        let mut map = std::collections::HashMap::new();
        for (alias, version) in aliases {
            let version = i64::try_from(*version)
                .map_err(|_| SecretError::version_not_found(name, version))?;
            map.insert(alias.clone(), version);
        }
        let secret = Secret::new()
            .set_name(self.secret(name))
            .set_version_aliases(map)
            .set_etag(etag);
        let mask = google_cloud_wkt::FieldMask::default().set_paths(["version_aliases"]);
        match self
            .client
            .update_secret()
            .set_secret(secret)
            .set_update_mask(mask)
            .send()
            .await
        {
            Ok(updated) => Ok(updated.etag),
            Err(e) if code(&e) == Some(Code::Aborted) => Err(SecretError::Conflict {
                secret: name.to_owned(),
            }),
            // Some services report a stale etag as FAILED_PRECONDITION; tell it from a real
            // precondition failure by looking at the current etag.
            Err(e) if code(&e) == Some(Code::FailedPrecondition) => {
                match self.fetch_secret(name).await? {
                    Some(current) if current.etag != etag => Err(SecretError::Conflict {
                        secret: name.to_owned(),
                    }),
                    _ => Err(classify(name, None, e)),
                }
            }
            Err(e) => Err(classify(name, None, e)),
        }
    }

    async fn disable_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.set_state(name, version, VersionState::Disabled).await
    }

    async fn enable_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.set_state(name, version, VersionState::Enabled).await
    }

    async fn destroy_version(&self, name: &str, version: u64) -> Result<(), SecretError> {
        self.set_state(name, version, VersionState::Destroyed).await
    }

    async fn delete_secret(&self, name: &str) -> Result<bool, SecretError> {
        validate_secret_name(name)?;
        match self
            .client
            .delete_secret()
            .set_name(self.secret(name))
            .send()
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if code(&e) == Some(Code::NotFound) => Ok(false),
            Err(e) => Err(classify(name, None, e)),
        }
    }

    async fn list_secrets(
        &self,
        label_filter: &[(&str, &str)],
    ) -> Result<Vec<String>, SecretError> {
        for (key, value) in label_filter {
            validate_label("*", key, value)?;
        }
        // The server filter narrows the listing; the exact match is checked here, so the
        // result does not depend on how the filter language treats `:`.
        let filter = label_filter
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("labels.{k}:\"{v}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let mut items = self
            .client
            .list_secrets()
            .set_parent(format!("projects/{}", self.project))
            .set_filter(filter)
            .by_item();
        let mut names = Vec::new();
        while let Some(item) = items.next().await {
            let secret = item.map_err(|e| classify("*", None, e))?;
            let matches = label_filter
                .iter()
                .all(|(k, v)| secret.labels.get(*k).map(String::as_str) == Some(*v));
            if matches {
                names.push(short_name(&secret.name).to_owned());
            }
        }
        names.sort();
        Ok(names)
    }
}

//! Cloud SQL instances, through the Admin API client: stopped with `instances.patch`
//! setting only `settings.activationPolicy` (`NEVER`), started again with the recorded
//! policy. Each patch carries the settings version read, so a concurrent change makes it
//! fail (read again) instead of being overwritten.

use std::collections::BTreeMap;

use async_trait::async_trait;
use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
use google_cloud_sql_v1::model::operation::SqlOperationStatus;
use google_cloud_sql_v1::model::settings::SqlActivationPolicy;
use google_cloud_sql_v1::model::{
    DatabaseInstance, Operation, Settings, SqlInstanceType, SqlInstancesPatchRequest,
};
use serde::{Deserialize, Serialize};

use super::api::{classify, is_stale, kept_changing, ROUNDS};
use super::{Backend, BackendError, Change, Restored};
use shared::poll::{poll_until, NotFinished, Polling};

/// What budget-guard records of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudSqlSettings {
    /// `ALWAYS`, `NEVER`, `ON_DEMAND`, … exactly as read (journaled by name).
    #[serde(serialize_with = "policy_by_name")]
    pub activation_policy: SqlActivationPolicy,
    /// The instance's user labels.
    pub user_labels: BTreeMap<String, String>,
}

/// Cloud SQL instances; `name` is `projects/{project}/instances/{instance}`.
#[derive(Debug, Clone)]
pub struct CloudSql {
    instances: SqlInstancesService,
    operations: SqlOperationsService,
    polling: Polling,
}

/// Whether the patch went through or lost a race with another writer.
enum Patch {
    Done,
    Stale,
}

impl CloudSql {
    /// Over existing clients (in tests, built with `from_stub`).
    pub fn new(
        instances: SqlInstancesService,
        operations: SqlOperationsService,
        polling: Polling,
    ) -> Self {
        Self {
            instances,
            operations,
            polling,
        }
    }

    /// The names (`projects/{project}/instances/{instance}`) of the instances of `project`,
    /// every page.
    pub async fn list(&self, project: &str) -> Result<Vec<String>, BackendError> {
        let mut names = Vec::new();
        let mut token = String::new();
        loop {
            let page = (self.instances.list())
                .set_project(project)
                .set_page_token(&token)
                .send()
                .await
                .map_err(|e| classify(project, "instances.list", &e))?;
            let listed = page.items.into_iter();
            names.extend(listed.map(|i| format!("projects/{project}/instances/{}", i.name)));
            if page.next_page_token.is_empty() {
                return Ok(names);
            }
            token = page.next_page_token;
        }
    }

    async fn get(&self, name: &str) -> Result<DatabaseInstance, BackendError> {
        let (project, instance) = split(name)?;
        (self.instances.get())
            .set_project(project)
            .set_instance(instance)
            .send()
            .await
            .map_err(|e| classify(name, "instances.get", &e))
    }

    /// Sets the activation policy as of `instance`'s settings version, and nothing else;
    /// waits for the operation to finish.
    async fn patch(
        &self,
        name: &str,
        instance: &DatabaseInstance,
        policy: &SqlActivationPolicy,
    ) -> Result<Patch, BackendError> {
        let (project, id) = split(name)?;
        let version = instance.settings.as_ref().and_then(|s| s.settings_version);
        let settings = Settings::new()
            .set_activation_policy(policy.clone())
            .set_or_clear_settings_version(version);
        let request = SqlInstancesPatchRequest::new()
            .set_project(project)
            .set_instance(id)
            .set_body(DatabaseInstance::new().set_settings(settings));
        let started = match self.instances.patch().with_request(request).send().await {
            Ok(operation) => operation,
            Err(e) if is_stale(&e) => return Ok(Patch::Stale),
            Err(e) => return Err(classify(name, "instances.patch", &e)),
        };
        let done = self.wait(name, project, started).await?;
        match done.error.as_ref().map(|e| e.errors.first()) {
            None => Ok(Patch::Done),
            // DONE says the operation ended, not that it succeeded.
            Some(first) => Err(BackendError::OperationFailed {
                resource: name.to_owned(),
                operation: done.name.clone(),
                code: first.map_or("UNKNOWN", |e| &e.code).to_owned(),
                message: first.map_or("an empty error", |e| &e.message).to_owned(),
            }),
        }
    }

    async fn wait(
        &self,
        name: &str,
        project: &str,
        operation: Operation,
    ) -> Result<Operation, BackendError> {
        if operation.status == SqlOperationStatus::Done {
            return Ok(operation);
        }
        let polled = poll_until(self.polling, || async {
            let current = (self.operations.get())
                .set_project(project)
                .set_operation(&operation.name)
                .send()
                .await
                .map_err(|e| classify(name, "operations.get", &e))?;
            Ok((current.status == SqlOperationStatus::Done).then_some(current))
        })
        .await;
        polled.map_err(|e| match e {
            NotFinished::Failed(e) => e,
            NotFinished::StillRunning { polls } => BackendError::StillRunning {
                resource: name.to_owned(),
                operation: operation.name.clone(),
                polls,
            },
        })
    }
}

/// `(project, instance)` of `projects/{project}/instances/{instance}`.
fn split(name: &str) -> Result<(&str, &str), BackendError> {
    match name.split('/').collect::<Vec<_>>()[..] {
        ["projects", project, "instances", instance]
            if !project.is_empty() && !instance.is_empty() =>
        {
            Ok((project, instance))
        }
        _ => Err(BackendError::Refused {
            resource: name.to_owned(),
            reason: "not a Cloud SQL instance name (projects/{project}/instances/{instance})"
                .to_owned(),
        }),
    }
}

/// The policy's name where it has one (readable in the journal and in events), else its
/// number; the enum's own deserializer reads either.
fn policy_by_name<S: serde::Serializer>(
    policy: &SqlActivationPolicy,
    s: S,
) -> Result<S::Ok, S::Error> {
    match policy.name() {
        Some(name) => s.serialize_str(name),
        None => policy.serialize(s),
    }
}

fn settings_of(instance: &DatabaseInstance) -> CloudSqlSettings {
    let settings = instance.settings.clone().unwrap_or_default();
    CloudSqlSettings {
        activation_policy: settings.activation_policy,
        user_labels: settings.user_labels.into_iter().collect(),
    }
}

/// Why `instance` cannot be stopped, if it is a read replica.
fn replica(instance: &DatabaseInstance) -> Option<String> {
    if instance.instance_type == SqlInstanceType::ReadReplicaInstance {
        return Some("a read replica cannot be stopped".to_owned());
    }
    (!instance.master_instance_name.is_empty()).then(|| {
        format!(
            "a replica of {} cannot be stopped",
            instance.master_instance_name
        )
    })
}

#[async_trait]
impl Backend for CloudSql {
    type Settings = CloudSqlSettings;

    async fn read(&self, name: &str) -> Result<CloudSqlSettings, BackendError> {
        Ok(settings_of(&self.get(name).await?))
    }

    /// Only [`Change::Stop`] stops the instance; a cap leaves it running as it is.
    async fn apply(
        &self,
        name: &str,
        expected: &CloudSqlSettings,
        change: &Change,
    ) -> Result<CloudSqlSettings, BackendError> {
        let target = match change {
            Change::Cap { .. } => expected.activation_policy.clone(),
            Change::Stop => SqlActivationPolicy::Never,
        };
        for _ in 0..ROUNDS {
            let instance = self.get(name).await?;
            if let Some(reason) = replica(&instance) {
                let resource = name.to_owned();
                return Err(BackendError::Skipped { resource, reason });
            }
            let current = settings_of(&instance);
            if current.activation_policy == target {
                return Ok(current);
            }
            if current.activation_policy != expected.activation_policy {
                return Err(BackendError::changed(name, &current));
            }
            if let Patch::Done = self.patch(name, &instance, &target).await? {
                let activation_policy = target;
                return Ok(CloudSqlSettings {
                    activation_policy,
                    ..current
                });
            }
        }
        Err(kept_changing(name, "instances.patch"))
    }

    async fn restore(
        &self,
        name: &str,
        previous: &CloudSqlSettings,
        applied: &CloudSqlSettings,
    ) -> Result<Restored<CloudSqlSettings>, BackendError> {
        for _ in 0..ROUNDS {
            let instance = self.get(name).await?;
            let current = settings_of(&instance);
            if current.activation_policy == previous.activation_policy {
                return Ok(Restored::Done);
            }
            if current.activation_policy != applied.activation_policy {
                return Ok(Restored::Conflict { found: current });
            }
            let policy = &previous.activation_policy;
            if let Patch::Done = self.patch(name, &instance, policy).await? {
                return Ok(Restored::Done);
            }
        }
        Err(kept_changing(name, "instances.patch"))
    }

    fn labels(&self, settings: &CloudSqlSettings) -> BTreeMap<String, String> {
        settings.user_labels.clone()
    }

    fn planned(&self, current: &CloudSqlSettings, change: &Change) -> CloudSqlSettings {
        match change {
            Change::Cap { .. } => current.clone(),
            Change::Stop => CloudSqlSettings {
                activation_policy: SqlActivationPolicy::Never,
                ..current.clone()
            },
        }
    }
}

//! Stopping and starting Cloud SQL instances through the client's stub traits: the exact
//! patch (only `settings.activationPolicy`, with the settings version read), the operation
//! polled to DONE, replicas skipped, conflicts reported without a write.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(deprecated)] // ON_DEMAND is deprecated, and still a policy an instance may have

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use budget_guard::backends::cloud_sql::{CloudSql, CloudSqlSettings};
use budget_guard::backends::{Backend, BackendError, Change, Polling, Restored};
use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::error::Error;
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
use google_cloud_sql_v1::model::operation::SqlOperationStatus;
use google_cloud_sql_v1::model::settings::SqlActivationPolicy;
use google_cloud_sql_v1::model::{
    DatabaseInstance, Operation, OperationError, OperationErrors, Settings, SqlInstanceType,
    SqlInstancesGetRequest, SqlInstancesPatchRequest, SqlOperationsGetRequest,
};

const NAME: &str = "projects/acme/instances/env-db";

/// One instance; patches recorded; each operation DONE after `polls_before_done` polls.
#[derive(Debug, Default)]
struct FakeSql {
    instance: Mutex<DatabaseInstance>,
    patches: Mutex<Vec<SqlInstancesPatchRequest>>,
    polls: Mutex<Vec<SqlOperationsGetRequest>>,
    polls_before_done: u32,
    done_with_error: bool,
    /// Another writer bumps the settings version just before our next patch lands.
    raced: Mutex<bool>,
}

impl FakeSql {
    fn new(policy: SqlActivationPolicy) -> Self {
        let labels = HashMap::from([("managed-by".to_owned(), "groundskeeper".to_owned())]);
        let settings = Settings::new()
            .set_activation_policy(policy)
            .set_settings_version(7)
            .set_tier("db-custom-1-3840")
            .set_user_labels(labels);
        let instance = DatabaseInstance::new()
            .set_name("env-db")
            .set_settings(settings);
        Self {
            instance: Mutex::new(instance),
            polls_before_done: 2,
            ..Self::default()
        }
    }

    fn backend(self, max_polls: u32) -> (Arc<Self>, CloudSql) {
        let fake = Arc::new(self);
        let polling = Polling {
            interval: Duration::from_millis(1),
            max_polls,
        };
        let backend = CloudSql::new(
            SqlInstancesService::from_stub::<Self>(Arc::clone(&fake)),
            SqlOperationsService::from_stub::<Self>(Arc::clone(&fake)),
            polling,
        );
        (fake, backend)
    }

    fn settings(&self) -> Settings {
        self.instance.lock().unwrap().settings.clone().unwrap()
    }

    /// Someone else sets the policy (the settings version moves on).
    fn set_policy(&self, policy: SqlActivationPolicy) {
        let mut instance = self.instance.lock().unwrap();
        let settings = self.settings_after(&instance).set_activation_policy(policy);
        instance.settings = Some(settings);
    }

    fn settings_after(&self, instance: &DatabaseInstance) -> Settings {
        let settings = instance.settings.clone().unwrap();
        let version = settings.settings_version.unwrap();
        settings.set_settings_version(version + 1)
    }

    fn patches(&self) -> Vec<SqlInstancesPatchRequest> {
        self.patches.lock().unwrap().clone()
    }
}

impl google_cloud_sql_v1::stub::SqlInstancesService for FakeSql {
    async fn get(
        &self,
        r: SqlInstancesGetRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<DatabaseInstance>> {
        assert_eq!(
            (r.project.as_str(), r.instance.as_str()),
            ("acme", "env-db")
        );
        Ok(Response::from(self.instance.lock().unwrap().clone()))
    }

    async fn patch(
        &self,
        r: SqlInstancesPatchRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<Operation>> {
        self.patches.lock().unwrap().push(r.clone());
        if std::mem::take(&mut *self.raced.lock().unwrap()) {
            self.set_policy(self.settings().activation_policy);
        }
        let mut instance = self.instance.lock().unwrap();
        let sent = r.body.unwrap().settings.unwrap();
        if sent.settings_version != instance.settings.as_ref().unwrap().settings_version {
            let status = Status::default().set_code(Code::FailedPrecondition);
            return Err(Error::service(status.set_message("stale settings version")));
        }
        let settings = self.settings_after(&instance);
        instance.settings = Some(settings.set_activation_policy(sent.activation_policy));
        let name = format!("op-{}", self.patches.lock().unwrap().len());
        let running = Operation::new()
            .set_name(name)
            .set_status(SqlOperationStatus::Running);
        Ok(Response::from(running))
    }
}

impl google_cloud_sql_v1::stub::SqlOperationsService for FakeSql {
    async fn get(
        &self,
        r: SqlOperationsGetRequest,
        _: RequestOptions,
    ) -> google_cloud_sql_v1::Result<Response<Operation>> {
        assert_eq!(r.project, "acme");
        let mut polls = self.polls.lock().unwrap();
        polls.push(r.clone());
        let of_this = polls.iter().filter(|p| p.operation == r.operation).count();
        let status = if of_this > self.polls_before_done as usize {
            SqlOperationStatus::Done
        } else {
            SqlOperationStatus::Running
        };
        let done = status == SqlOperationStatus::Done;
        let mut operation = Operation::new().set_name(&r.operation).set_status(status);
        if self.done_with_error && done {
            let error = OperationError::new()
                .set_code("INTERNAL_ERROR")
                .set_message("no");
            operation = operation.set_error(OperationErrors::new().set_errors([error]));
        }
        Ok(Response::from(operation))
    }
}

/// The only patch budget-guard may send.
fn patch(policy: SqlActivationPolicy, version: i64) -> SqlInstancesPatchRequest {
    let settings = Settings::new()
        .set_activation_policy(policy)
        .set_settings_version(version);
    SqlInstancesPatchRequest::new()
        .set_project("acme")
        .set_instance("env-db")
        .set_body(DatabaseInstance::new().set_settings(settings))
}

#[tokio::test]
async fn stop_then_restore_patches_only_the_policy_and_waits_for_done() {
    let (sql, backend) = FakeSql::new(SqlActivationPolicy::Always).backend(5);
    let before = sql.settings();
    let previous = backend.read(NAME).await.unwrap();
    assert_eq!(backend.labels(&previous)["managed-by"], "groundskeeper");
    let journaled = serde_json::to_value(&previous).unwrap();
    assert_eq!(
        journaled["activation_policy"], "ALWAYS",
        "journaled by name"
    );
    let read_back: CloudSqlSettings = serde_json::from_value(journaled).unwrap();
    assert_eq!(read_back, previous);

    let applied = backend.apply(NAME, &previous, &Change::Stop).await.unwrap();
    assert_eq!(applied.activation_policy, SqlActivationPolicy::Never);
    assert_eq!(sql.patches(), [patch(SqlActivationPolicy::Never, 7)]);
    assert_eq!(sql.polls.lock().unwrap().len(), 3, "polled until DONE");

    let restored = backend.restore(NAME, &previous, &applied).await.unwrap();
    assert_eq!(restored, Restored::Done);
    assert_eq!(sql.patches()[1], patch(SqlActivationPolicy::Always, 8));
    assert_eq!(
        sql.settings(),
        before.set_settings_version(9),
        "only the policy changed"
    );
}

#[tokio::test]
async fn a_non_default_policy_is_restored_exactly_and_a_cap_changes_nothing() {
    let (sql, backend) = FakeSql::new(SqlActivationPolicy::OnDemand).backend(5);
    let previous = backend.read(NAME).await.unwrap();
    let cap = Change::Cap {
        max_instances: 1.try_into().unwrap(),
    };
    assert_eq!(
        backend.apply(NAME, &previous, &cap).await.unwrap(),
        previous
    );
    assert!(sql.patches().is_empty());

    let applied = backend.apply(NAME, &previous, &Change::Stop).await.unwrap();
    assert_eq!(
        backend.apply(NAME, &previous, &Change::Stop).await.unwrap(),
        applied
    );
    backend.restore(NAME, &previous, &applied).await.unwrap();
    let again = backend.restore(NAME, &previous, &applied).await.unwrap();
    assert_eq!(again, Restored::Done);
    assert_eq!(sql.patches()[1], patch(SqlActivationPolicy::OnDemand, 8));
    assert_eq!(sql.patches().len(), 2, "repeats wrote nothing");
}

#[tokio::test]
async fn read_replicas_are_skipped_untouched() {
    let replica = FakeSql::new(SqlActivationPolicy::Always);
    let typed = replica.instance.lock().unwrap().clone();
    *replica.instance.lock().unwrap() =
        typed.set_instance_type(SqlInstanceType::ReadReplicaInstance);
    let (sql, backend) = replica.backend(5);
    let previous = backend.read(NAME).await.unwrap();
    let err = backend
        .apply(NAME, &previous, &Change::Stop)
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Skipped { .. }), "{err}");

    let named = FakeSql::new(SqlActivationPolicy::Always);
    let instance = named.instance.lock().unwrap().clone();
    *named.instance.lock().unwrap() = instance.set_master_instance_name("acme:primary");
    let (named, backend) = named.backend(5);
    let err = backend
        .apply(NAME, &previous, &Change::Stop)
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Skipped { .. }), "{err}");
    assert!(sql.patches().is_empty() && named.patches().is_empty());
}

#[tokio::test]
async fn a_policy_changed_while_stopped_is_a_conflict_and_left_alone() {
    let (sql, backend) = FakeSql::new(SqlActivationPolicy::OnDemand).backend(5);
    let previous = backend.read(NAME).await.unwrap();
    let applied = backend.apply(NAME, &previous, &Change::Stop).await.unwrap();
    sql.set_policy(SqlActivationPolicy::Always);

    let restored = backend.restore(NAME, &previous, &applied).await.unwrap();
    let Restored::Conflict { found } = restored else {
        panic!("expected a conflict, got {restored:?}");
    };
    assert_eq!(found.activation_policy, SqlActivationPolicy::Always);
    assert_eq!(sql.patches().len(), 1, "only the stop wrote");
    assert_eq!(
        sql.settings().activation_policy,
        SqlActivationPolicy::Always
    );
}

#[tokio::test]
async fn a_stale_settings_version_is_retried_from_a_fresh_read() {
    let (sql, backend) = FakeSql::new(SqlActivationPolicy::Always).backend(5);
    let previous = backend.read(NAME).await.unwrap();
    *sql.raced.lock().unwrap() = true;
    backend.apply(NAME, &previous, &Change::Stop).await.unwrap();
    let never = SqlActivationPolicy::Never;
    assert_eq!(sql.patches(), [patch(never.clone(), 7), patch(never, 8)]);
}

#[tokio::test]
async fn an_operation_done_with_an_error_or_never_done_is_a_failure() {
    let failing = FakeSql {
        done_with_error: true,
        ..FakeSql::new(SqlActivationPolicy::Always)
    };
    let (_, backend) = failing.backend(5);
    let previous = backend.read(NAME).await.unwrap();
    let err = backend
        .apply(NAME, &previous, &Change::Stop)
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::OperationFailed { .. }), "{err}");
    assert!(!err.is_retryable());

    let (_, backend) = FakeSql::new(SqlActivationPolicy::Always).backend(2);
    let err = backend
        .apply(NAME, &previous, &Change::Stop)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackendError::StillRunning { polls: 2, .. }),
        "{err}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn names_that_are_not_an_instance_are_refused_without_a_call() {
    let (sql, backend) = FakeSql::new(SqlActivationPolicy::Always).backend(5);
    for name in [
        "env-db",
        "acme:env-db",
        "projects/acme/instances/",
        "projects/acme/instances/env-db/databases/x",
    ] {
        let err = backend.read(name).await.unwrap_err();
        assert!(matches!(err, BackendError::Refused { .. }), "{name}: {err}");
    }
    assert!(sql.patches().is_empty());
}

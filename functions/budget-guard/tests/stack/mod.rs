//! budget-guard over real local components — PostgreSQL (the control database with
//! env-provisioner's inventory and the journal, and the managed server the environments'
//! databases live on) — and the Cloud Run / Cloud SQL fleets of `fleet.rs`, delivered
//! through the runtime's dispatcher (ledger and dead-letter topic included).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(dead_code)] // each test file uses a different part

pub mod fleet;

use std::sync::Arc;
use std::time::Duration;

use budget_guard::backends::cloud_run::CloudRun;
use budget_guard::backends::cloud_sql::CloudSql;
use budget_guard::backends::database::Databases;
use budget_guard::backends::Polling;
use budget_guard::scope::Scope;
use budget_guard::{Config, Guard, GuardEvent};
use events::RawEvent;
use fleet::{RunFleet, SqlFleet, LOCATION, PROJECT};
use google_cloud_run_v2::client::Services;
use google_cloud_sql_v1::client::{SqlInstancesService, SqlOperationsService};
use shared::backends::publisher::RecordingPublisher;
use shared::backends::Plan;
use shared::dispatch::{DispatchOptions, Dispatcher};
use shared::ledger::Ledger;
use shared::{env::Env, Backends, Ctx, Decision};
use sqlx::{Connection, PgConnection};
use testbed::ServiceStack;

pub const ACCOUNT: &str = "01A2B3-C4D5E6-F7A8B9";
pub const DEV_BUDGET: &str = "budget-dev";
pub const DEAD_LETTERS: &str = "budget-guard-dead-letter";
pub const APPLIED: &str = "dev.groundskeeper.downscale.applied.v1";
pub const RESUMED: &str = "dev.groundskeeper.downscale.resumed.v1";
pub const THRESHOLD: &str = "dev.groundskeeper.budget.threshold.v1";
pub const RESUME: &str = "dev.groundskeeper.budget.resume.requested.v1";

pub struct Stack {
    pub base: ServiceStack,
    pub published: Arc<RecordingPublisher>,
    pub ctx: Ctx,
    pub guard: Arc<Guard>,
    pub run: Arc<RunFleet>,
    pub sql: Arc<SqlFleet>,
}

impl Stack {
    /// The stack with the dev budget configured, plus `settings`.
    pub async fn start(settings: &[(&str, &str)]) -> Self {
        let base = ServiceStack::builder()
            .migrations(
                shared::migrations::control_migrator(&env_provisioner::migrations::MIGRATOR)
                    .unwrap(),
            )
            .build()
            .await;
        shared::migrations::control_migrator(&budget_guard::migrations::MIGRATOR)
            .unwrap()
            .run(&base.control)
            .await
            .unwrap();
        let published = Arc::new(RecordingPublisher::new(Plan::default()));
        let ctx = Ctx::new(Backends {
            service: "budget-guard".into(),
            events_topic: "events".into(),
            publisher: published.clone(),
            control_db: Some(base.control.clone()),
            object_store: None,
            secrets: None,
            databases: None,
            plan: None,
        });
        let budgets = format!("{ACCOUNT}/{DEV_BUDGET}=dev,{ACCOUNT}/budget-staging=staging");
        let mut pairs = vec![("BUDGETS", budgets.as_str()), ("CAP_MAX_INSTANCES", "2")];
        pairs.extend_from_slice(settings);
        let config = Config::from_env(&Env::from_pairs(pairs)).unwrap();
        let run = Arc::new(RunFleet::default());
        let sql = Arc::new(SqlFleet::default());
        let polling = Polling {
            interval: Duration::from_millis(1),
            max_polls: 5,
        };
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_lazy(&base.admin_url())
            .unwrap();
        let scope = Scope::default()
            .with_cloud_run(
                CloudRun::new(Services::from_stub::<RunFleet>(run.clone())),
                vec![LOCATION.to_owned()],
            )
            .with_cloud_sql(
                CloudSql::new(
                    SqlInstancesService::from_stub::<SqlFleet>(sql.clone()),
                    SqlOperationsService::from_stub::<SqlFleet>(sql.clone()),
                    polling,
                ),
                vec![PROJECT.to_owned()],
            )
            .with_databases(Databases::new(admin));
        Self {
            base,
            published,
            ctx,
            guard: Arc::new(Guard::with_scope(config, scope)),
            run,
            sql,
        }
    }

    /// The runtime's dispatch path, as production builds it.
    pub fn dispatcher(&self) -> Dispatcher<GuardEvent, impl shared::Handler<GuardEvent>> {
        let options = DispatchOptions {
            ledger: Some(Ledger::with_pool(
                self.base.control.clone(),
                "budget-guard",
                Duration::from_secs(60),
            )),
            dead_letter_topic: DEAD_LETTERS.into(),
            timeout: Duration::from_secs(60),
        };
        let guard = self.guard.clone();
        let handler = move |event, ctx| budget_guard::handle(event, ctx, guard.clone());
        Dispatcher::new(handler, self.ctx.clone(), options)
    }

    pub async fn deliver(&self, raw: RawEvent) -> Decision {
        self.dispatcher().dispatch_raw(raw).await
    }

    /// Delivers a notification of the dev budget: delivery `id`, period starting `period`
    /// (`2026-11-01`), `cost` of a 100.0 budget.
    pub async fn notify(&self, id: &str, period: &str, cost: f64) -> Decision {
        self.deliver(notification(id, ACCOUNT, DEV_BUDGET, period, cost, 100.0))
            .await
    }

    /// The events emitted to the events topic of type `ty`.
    pub fn emitted_of(&self, ty: &str) -> Vec<serde_json::Value> {
        self.published
            .events()
            .into_iter()
            .filter(|(t, ..)| t == ty)
            .map(|(.., d)| d)
            .collect()
    }

    pub fn dead_letters(&self) -> Vec<events::Message> {
        self.published.messages_to(DEAD_LETTERS)
    }

    /// Two Cloud Run services (one with non-default scaling), a Cloud SQL instance and an
    /// environment's database, all of the dev tier; returns the database's name.
    pub async fn dev_fleet(&self) -> String {
        let dev = || fleet::labels(&[("managed-by", "groundskeeper"), ("tier", "dev")]);
        self.run.add("env-a", 2, 10, dev());
        self.run.add("env-b", 0, 0, dev());
        self.sql.add(
            "dev-db",
            google_cloud_sql_v1::model::settings::SqlActivationPolicy::Always,
            dev(),
            None,
        );
        self.ready_environment("pr-1", "dev").await
    }

    /// An environment as env-provisioner leaves a ready one: its database on the managed
    /// server and its row in the control database.
    pub async fn ready_environment(&self, name: &str, tier: &str) -> String {
        let env: events::names::EnvName = name.parse().unwrap();
        let mut admin = PgConnection::connect(&self.base.admin_url()).await.unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE {}", env.database().quoted()))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO control.environments \
             (name, spec, spec_hash, owner, tier, status, expires_at, request_id) \
             VALUES ($1, '{}', 'h', 'dev@example.com', $2, 'ready', now() + interval '1 day', 'r-' || $1)",
        )
        .bind(name)
        .bind(tier)
        .execute(&self.base.control)
        .await
        .unwrap();
        env.database().as_str().to_owned()
    }

    /// `datconnlimit` of a database.
    pub async fn connection_limit(&self, database: &str) -> i32 {
        sqlx::query_scalar("SELECT datconnlimit FROM pg_database WHERE datname = $1")
            .bind(database)
            .fetch_one(&self.base.control)
            .await
            .unwrap()
    }
}

/// A budget notification as Cloud Billing publishes it (no `ce-type`; attributes name the
/// budget), decoded the way the runtime decodes a push.
pub fn notification(
    id: &str,
    account: &str,
    budget: &str,
    period: &str,
    cost: f64,
    amount: f64,
) -> RawEvent {
    let data = serde_json::json!({
        "budgetDisplayName": "groundskeeper-dev",
        "costAmount": cost,
        "costIntervalStart": format!("{period}T00:00:00Z"),
        "budgetAmount": amount,
        "budgetAmountType": "SPECIFIED_AMOUNT",
        "currencyCode": "EUR",
    });
    with_attributes(
        id,
        data,
        &[
            ("billingAccountId", account),
            ("budgetId", budget),
            ("schemaVersion", "1.0"),
        ],
    )
}

/// A budget notification with exactly `attributes` and `data`.
pub fn with_attributes(id: &str, data: serde_json::Value, attributes: &[(&str, &str)]) -> RawEvent {
    let mut raw = testbed::raw_event(id, events::types::BUDGET_NOTIFICATION, &data, None);
    for (k, v) in attributes {
        raw.attributes.insert((*k).to_owned(), (*v).to_owned());
    }
    raw
}

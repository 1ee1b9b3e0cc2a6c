//! The tour's steps. Each publishes what a user would (the CLI's own publishing code) and
//! waits for what the stack answers: a follow-up event on the watch subscription, or the
//! request on the dead-letter subscription.

use std::sync::Arc;
use std::time::Duration;

use events::environment::{
    EnvironmentDeleted, EnvironmentFailed, EnvironmentReady, EnvironmentRequested,
    TeardownRequested,
};
use events::names::EnvName;
use events::{Tier, TypedEvent};
use shared::backends::object_store::ObjectStore;
use shared::backends::publisher::PubsubPublisher;
use shared::backends::secrets::SecretStore;

use super::connect::login;
use super::watch::{Pulled, Watch};
use super::Timeline;
use crate::operator::publish::{send, send_typed, ENVIRONMENT_REQUESTS};

pub(super) const WAIT: Duration = Duration::from_secs(60);
pub(super) const TABLE: &str = "tour_visits";

/// Everything the steps use.
pub struct Tour {
    pub name: EnvName,
    pub publisher: PubsubPublisher,
    pub secrets: Arc<dyn SecretStore>,
    pub events: Watch,
    pub dead_letters: Watch,
    pub admin: sqlx::PgPool,
    /// The control database (budget-guard's journal, read through its status API).
    pub control: sqlx::PgPool,
    /// The stack's object store, where backup-runner keeps backups.
    pub objects: Arc<dyn ObjectStore>,
    pub at: Timeline,
}

pub(super) fn ty(m: &Pulled) -> &str {
    m.attributes.get("ce-type").map_or("", String::as_str)
}

/// The secret id of `environment.ready`'s `secret` (a resource name,
/// `projects/P/secrets/ID`), which is what the secret store takes.
pub(super) fn secret_id(ready: &EnvironmentReady) -> &str {
    ready.secret.rsplit('/').next().unwrap_or(&ready.secret)
}

/// The `field` of a pulled event's JSON payload.
pub(super) fn field(m: &Pulled, field: &str) -> String {
    let value: serde_json::Value = serde_json::from_slice(&m.data).unwrap_or_default();
    value[field].as_str().unwrap_or_default().to_owned()
}

impl Tour {
    /// Asks for the environment, of tier dev (the local budget's scope); waits for
    /// `environment.ready` (or `failed`).
    pub async fn request(&self) -> anyhow::Result<EnvironmentReady> {
        self.request_env(&self.name, None).await
    }

    /// Requests environment `name` (seeded from a backup of another when `from_backup`
    /// names it) and waits for its outcome.
    pub(super) async fn request_env(
        &self,
        name: &EnvName,
        from_backup: Option<String>,
    ) -> anyhow::Result<EnvironmentReady> {
        self.send_request(name, from_backup).await?;
        let outcome = [EnvironmentReady::TYPE, EnvironmentFailed::TYPE];
        let event = self
            .events
            .next(WAIT, |m| {
                outcome.contains(&ty(m)) && field(m, "name") == name.as_str()
            })
            .await?;
        self.ready_of(&event)
    }

    /// Publishes the request for environment `name`.
    async fn send_request(
        &self,
        name: &EnvName,
        from_backup: Option<String>,
    ) -> anyhow::Result<()> {
        let seeded = from_backup
            .as_ref()
            .map(|source| format!(" --from-backup {source}"))
            .unwrap_or_default();
        let request = EnvironmentRequested {
            name: name.clone(),
            owner: "demo@localhost".into(),
            tier: Tier::Dev,
            ttl: Some("1h".parse().map_err(|e| anyhow::anyhow!("{e}"))?),
            labels: [("tour".to_owned(), "local-demo".to_owned())].into(),
            service: None,
            from_backup,
        };
        let id = send_typed(&self.publisher, &request).await?;
        let name = name.as_str();
        self.at.say(
            "→",
            format!(
                "env request {name} --owner demo@localhost --tier dev --ttl 1h{seeded}  (message {id})"
            ),
        );
        Ok(())
    }

    /// The environment's `environment.ready`, or its `environment.failed` as an error.
    fn ready_of(&self, event: &Pulled) -> anyhow::Result<EnvironmentReady> {
        if ty(event) == EnvironmentFailed::TYPE {
            anyhow::bail!(
                "environment.failed at {}: {}",
                field(event, "step"),
                field(event, "reason")
            );
        }
        let ready: EnvironmentReady = serde_json::from_slice(&event.data)?;
        self.at.say("←", format!(
            "environment.ready: database {} on {}:{}, login role {}, secret {}, objects under {}",
            ready.database.as_str(), ready.host, ready.port, ready.user.as_str(), ready.secret, ready.object_prefix
        ));
        Ok(ready)
    }

    /// Logs in with the secret's `current` version and creates a table.
    pub async fn use_credentials(&self, ready: &EnvironmentReady) -> anyhow::Result<()> {
        let mut conn = login(self.secrets.as_ref(), secret_id(ready)).await?;
        let user: String = sqlx::query_scalar("SELECT session_user::text")
            .fetch_one(&mut conn)
            .await?;
        let create =
            format!("CREATE TABLE {TABLE} (id serial PRIMARY KEY, at timestamptz DEFAULT now())");
        sqlx::query(&create).execute(&mut conn).await?;
        self.at.say("✓", format!("logged in as {user} with the secret's `current` version (password checked); created table {TABLE}"));
        Ok(())
    }

    /// Publishes a request that can never succeed; finds it dead-lettered with its reason.
    pub async fn malformed(&self) -> anyhow::Result<()> {
        let bad = br#"{"name": "Not_Valid!", "owner": "demo@localhost", "tier": "ephemeral"}"#;
        let id = send(
            &self.publisher,
            ENVIRONMENT_REQUESTS,
            EnvironmentRequested::TYPE,
            bad.to_vec(),
        )
        .await?;
        self.at.say(
            "→",
            format!(
                "publish --raw environment.requested {}  (message {id})",
                String::from_utf8_lossy(bad)
            ),
        );
        let parked = self
            .dead_letters
            .next(WAIT, |m| {
                m.attributes.get("original-message-id") == Some(&id)
            })
            .await?;
        let attr = |k: &str| parked.attributes.get(k).cloned().unwrap_or_default();
        self.at.say(
            "←",
            format!(
                "env-provisioner-dead-letter-sub: {} — {}",
                attr("error-type"),
                attr("error-reason")
            ),
        );
        Ok(())
    }

    /// Tears the environment down; waits for `environment.deleted` and checks.
    pub async fn teardown(&self, ready: &EnvironmentReady) -> anyhow::Result<()> {
        self.teardown_env(&self.name, ready).await
    }

    /// Tears environment `name` down and checks its database and secret are gone.
    pub(super) async fn teardown_env(
        &self,
        name: &EnvName,
        ready: &EnvironmentReady,
    ) -> anyhow::Result<()> {
        let request = TeardownRequested {
            name: name.clone(),
            reason: Some("end of the tour".into()),
        };
        let id = send_typed(&self.publisher, &request).await?;
        self.at
            .say("→", format!("env teardown {name}  (message {id})"));
        let name = name.as_str();
        self.events
            .next(WAIT, |m| {
                ty(m) == EnvironmentDeleted::TYPE && field(m, "name") == name
            })
            .await?;
        self.at.say("←", "environment.deleted");
        let databases: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
                .bind(ready.database.as_str())
                .fetch_one(&self.admin)
                .await?;
        let secret = self.secrets.get_secret(secret_id(ready)).await?;
        anyhow::ensure!(
            databases == 0 && secret.is_none(),
            "the environment was not fully removed"
        );
        self.at.say(
            "✓",
            format!(
                "database {} and secret {} are gone",
                ready.database.as_str(),
                secret_id(ready)
            ),
        );
        Ok(())
    }
}

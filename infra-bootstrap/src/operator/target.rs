//! What the CLI talks to: the running local stack when there is one, else what the
//! environment says (Google Cloud, or an emulator of your own).
//!
//! Without a stack: `GOOGLE_CLOUD_PROJECT` (required), `PUBSUB_EMULATOR_HOST` (optional),
//! Application Default Credentials for Pub/Sub and Secret Manager, `DATABASE_URL` for the
//! control database (`env list`, `env wait`, `env credentials`) and `SECRET_STORE` (`local`,
//! the default, or `secret-manager`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use shared::backends::publisher::PubsubPublisher;
use shared::backends::secrets::{LocalSecretStore, SecretManagerStore, SecretStore};
use shared::config::SecretStoreKind;
use shared::env::Env;
use sqlx::PgPool;

use super::stack::{self, StackState};

/// The project, the bus, the control database and the secret store to use.
#[derive(Debug)]
pub struct Target {
    /// The project id.
    pub project: String,
    /// The emulator `HOST:PORT`, when not on Google Cloud.
    pub emulator_host: Option<String>,
    /// The control database.
    pub database_url: Option<SecretString>,
    /// Where credentials secrets live.
    pub secret_store: SecretStoreKind,
}

impl Target {
    /// The local stack's state file when it exists and its emulator answers, else the
    /// environment. A stale file (stack killed without `local down`) is reported, not used.
    pub async fn discover(env: &Env, cwd: &Path) -> anyhow::Result<Self> {
        let state_dir = env.optional("GROUNDSKEEPER_STATE_DIR");
        if let Some(file) = stack::locate(state_dir.as_deref().map(Path::new), cwd) {
            if let Some(state) = StackState::read(&file)? {
                if answers(&state.pubsub_emulator_host).await {
                    return Ok(Self::local(state));
                }
                eprintln!(
                    "groundskeeper: ignoring {}: its Pub/Sub emulator at {} does not answer \
                     (stopped without `local down`?)",
                    file.display(),
                    state.pubsub_emulator_host
                );
            }
        }
        Self::from_env(env)
    }

    /// The running local stack of `state`.
    pub fn local(state: StackState) -> Self {
        Self {
            project: state.project,
            emulator_host: Some(state.pubsub_emulator_host),
            database_url: Some(state.database_url.into()),
            secret_store: SecretStoreKind::Local,
        }
    }

    /// The environment's settings (see the module documentation).
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        let project = env.optional("GOOGLE_CLOUD_PROJECT").context(
            "no local stack is running (`groundskeeper local up`) and GOOGLE_CLOUD_PROJECT is not set",
        )?;
        let secret_store = match env.optional("SECRET_STORE").as_deref() {
            None | Some("local") => SecretStoreKind::Local,
            Some("secret-manager") => SecretStoreKind::SecretManager,
            Some(other) => {
                anyhow::bail!("SECRET_STORE: {other:?} is neither `local` nor `secret-manager`")
            }
        };
        Ok(Self {
            project,
            emulator_host: env.optional("PUBSUB_EMULATOR_HOST"),
            database_url: env.optional("DATABASE_URL").map(SecretString::from),
            secret_store,
        })
    }

    /// A publisher on the target's bus.
    pub fn publisher(&self) -> anyhow::Result<PubsubPublisher> {
        Ok(PubsubPublisher::new(
            &self.project,
            self.emulator_host.as_deref(),
        )?)
    }

    /// A connection pool on the control database.
    pub async fn control_db(&self) -> anyhow::Result<PgPool> {
        let url = self.database_url.as_ref().context(
            "this command reads the control database: set DATABASE_URL (or start the local stack)",
        )?;
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url.expose_secret())
            .await
            .context("connecting to the control database (DATABASE_URL)")
    }

    /// The secret store holding environments' credentials.
    pub async fn secrets(&self) -> anyhow::Result<Arc<dyn SecretStore>> {
        Ok(match self.secret_store {
            SecretStoreKind::Local => Arc::new(LocalSecretStore::new(self.control_db().await?)),
            SecretStoreKind::SecretManager => Arc::new(
                SecretManagerStore::connect(self.project.clone())
                    .await
                    .context("building the Secret Manager client (SECRET_STORE=secret-manager)")?,
            ),
        })
    }
}

/// Whether something accepts connections at `host` (`HOST:PORT`) within a moment.
async fn answers(host: &str) -> bool {
    let connect = tokio::net::TcpStream::connect(host);
    matches!(
        tokio::time::timeout(Duration::from_millis(500), connect).await,
        Ok(Ok(_))
    )
}

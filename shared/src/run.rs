//! `shared::run(handler)`: the whole life of a service binary.
//!
//! `SERVICE` (no arguments) serves deliveries over HTTP; `SERVICE replay --file F` runs the
//! same decode-and-handle path on a file and prints what happened (see [`crate::replay`]);
//! `SERVICE migrate` migrates the control database once (the runtime's migrations and the
//! service's own, see [`run_with_migrations`]) and exits.
//!
//! Migrations belong to the deploy (Cloud Build runs `migrate` as a Cloud Run job before each
//! service's deploy; `groundskeeper local up` runs it before starting the services), not to
//! every cold start: a starting instance never waits on the database before it listens.

use std::{net::SocketAddr, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use events::Payload;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection as _, PgConnection,
};

use crate::{
    auth::PushAuth,
    backends::{
        databases::{DatabaseAdmin, PostgresAdmin},
        object_store,
        publisher::{Publisher, PubsubPublisher},
        secrets::{LocalSecretStore, SecretStore},
    },
    config::{RuntimeConfig, SecretStoreKind},
    dispatch::{DispatchOptions, Dispatcher},
    env::Env,
    handler::Handler,
    ledger::Ledger,
    migrations::control_migrator,
    replay::{self, ReplayArgs},
    server, telemetry, Backends, Ctx,
};

#[derive(Parser)]
#[command(about = "A groundskeeper service. Without a command, serves deliveries on $PORT.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve deliveries over HTTP (the default).
    Serve,
    /// Run a delivery from a file through the handler and print the decision as JSON.
    Replay(ReplayArgs),
    /// Run the control-database migrations against $DATABASE_URL once, then exit.
    Migrate,
}

/// Runs the service binary: parses the command line, then serves, replays or migrates.
/// Exit code: 0 done, 1 retry (or failure to start or migrate), 2 rejected (replay).
/// For a service without tables of its own; one with tables uses [`run_with_migrations`].
pub async fn run<T, H>(handler: H) -> anyhow::Result<ExitCode>
where
    T: Payload,
    H: Handler<T>,
{
    run_with_migrations(handler, &Migrator::DEFAULT).await
}

/// [`run`] for a service that owns tables: its `migrate` applies the runtime's migrations and
/// `own` (the service's `sqlx::migrate!()`), merged by [`control_migrator`].
pub async fn run_with_migrations<T, H>(handler: H, own: &Migrator) -> anyhow::Result<ExitCode>
where
    T: Payload,
    H: Handler<T>,
{
    let cli = Cli::parse();
    let env = Env::from_process();
    if let Some(Command::Migrate) = cli.command {
        // Before the runtime's config: the deploy's job needs DATABASE_URL and nothing else.
        return migrate(&env, own).await.map(|()| ExitCode::SUCCESS);
    }
    let config = RuntimeConfig::from_env(&env, &binary_name())?;
    match cli.command {
        None | Some(Command::Serve) => serve(handler, config).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Replay(args)) => replay::replay(handler, config, args).await,
        Some(Command::Migrate) => unreachable!("handled above"),
    }
}

/// Applies the runtime's migrations and `own` to the control database at `DATABASE_URL`.
/// sqlx holds a PostgreSQL advisory lock while migrating, so two deploys racing (of one
/// service or of two) run each migration once.
async fn migrate(env: &Env, own: &Migrator) -> anyhow::Result<()> {
    // First: a version clash is the build's fault, whatever the database.
    let migrator = control_migrator(own)?;
    let url = env.required("DATABASE_URL")?;
    // One connection, failing fast: the job is retried by its runner, not here. The error
    // names the variable, never its value: the URL holds the password.
    let mut connection = PgConnection::connect(&url)
        .await
        .context("connecting to the control database (DATABASE_URL)")?;
    migrator
        .run(&mut connection)
        .await
        .context("migrating the control database (DATABASE_URL)")?;
    connection.close().await?;
    Ok(())
}

/// The ledger's own pool (see [`Ledger::connect`] for why its commits are asynchronous),
/// connecting on first use so the instance listens before the database answers.
fn lazy_ledger(config: &RuntimeConfig, url: &SecretString) -> anyhow::Result<Ledger> {
    let options: PgConnectOptions = url
        .expose_secret()
        .parse()
        .context("DATABASE_URL is not a PostgreSQL URL")?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_lazy_with(options.options([("synchronous_commit", "off")]));
    Ok(Ledger::with_pool(pool, &config.service, config.lease)
        .with_retention(config.ledger_retention))
}

async fn serve<T: Payload, H: Handler<T>>(handler: H, config: RuntimeConfig) -> anyhow::Result<()> {
    telemetry::init(&config.project, &config.service, config.log_json);
    let backends = backends(&config).await?;
    let ledger = match (&config.database_url, config.idempotency) {
        (Some(url), true) => Some(lazy_ledger(&config, url)?),
        _ => None,
    };
    let auth = match &config.push_auth {
        Some(auth) => Some(PushAuth::new(auth.clone())),
        // The config allows this only off Cloud Run or with PUSH_AUTH=off-behind-iam.
        None => {
            tracing::warn!(
                "push authentication is off in this process: callers are not checked here. \
                 On Cloud Run set PUSH_AUDIENCE and PUSH_ALLOWED_EMAILS, or \
                 PUSH_AUTH=off-behind-iam when Cloud Run's IAM check authenticates pushes."
            );
            None
        }
    };
    let options = DispatchOptions {
        ledger,
        dead_letter_topic: config.dead_letter_topic.clone(),
        timeout: config.delivery_timeout,
    };
    let dispatcher = Dispatcher::new(handler, Ctx::new(backends), options);
    let router = server::router(dispatcher, auth, &config.service);
    let address = SocketAddr::new(config.listen_address, config.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address} (PORT / LISTEN_ADDRESS)"))?;
    tracing::info!(%address, service = %config.service, "ready");
    server::serve(
        listener,
        router,
        server::shutdown_signal(),
        config.shutdown_grace,
    )
    .await?;
    Ok(())
}

/// The real backends, as configured. Clients connect lazily where they can, so a cold start
/// does not wait on the network. The control database is expected migrated (`migrate`).
pub async fn backends(config: &RuntimeConfig) -> anyhow::Result<Backends> {
    let publisher: Arc<dyn Publisher> = Arc::new(
        PubsubPublisher::new(&config.project, config.pubsub_emulator_host.as_deref()).context(
            "building the Pub/Sub publisher (GOOGLE_CLOUD_PROJECT, PUBSUB_EMULATOR_HOST)",
        )?,
    );
    let control_db = match &config.database_url {
        Some(url) => Some(crate::db::connect_lazy(url).context("DATABASE_URL")?),
        None => None,
    };
    let object_store = match &config.object_store_url {
        Some(url) => Some(
            object_store::from_url(url, config.storage_emulator_host.as_deref())
                .await
                .context("OBJECT_STORE_URL")?,
        ),
        None => None,
    };
    let secrets: Option<Arc<dyn SecretStore>> = match (config.secret_store, &control_db) {
        (SecretStoreKind::SecretManager, _) => Some(secret_manager(config).await?),
        (SecretStoreKind::Local, Some(pool)) => Some(Arc::new(LocalSecretStore::new(pool.clone()))),
        (SecretStoreKind::Local, None) => None,
    };
    Ok(Backends {
        service: config.service.clone(),
        events_topic: config.events_topic.clone(),
        publisher,
        control_db,
        object_store,
        secrets,
        databases: managed_databases(config)?,
        plan: None,
    })
}

fn managed_databases(config: &RuntimeConfig) -> anyhow::Result<Option<Arc<dyn DatabaseAdmin>>> {
    let Some(url) = &config.managed_database_url else {
        return Ok(None);
    };
    let admin = PostgresAdmin::connect_lazy(url, None)
        .context("MANAGED_DATABASE_URL")?
        .with_public_address(&config.managed_database_public)
        .with_platform_databases(control_database_on(url, config.database_url.as_ref()));
    Ok(Some(Arc::new(admin)))
}

/// The control database's name when it lives on the managed server, which environment roles
/// must then be kept out of.
fn control_database_on(
    managed: &secrecy::SecretString,
    control: Option<&secrecy::SecretString>,
) -> Option<events::names::DbIdent> {
    let parse = |url: &secrecy::SecretString| {
        url.expose_secret()
            .parse::<sqlx::postgres::PgConnectOptions>()
            .ok()
    };
    let (managed, control) = (parse(managed)?, parse(control?)?);
    let same_server =
        managed.get_host() == control.get_host() && managed.get_port() == control.get_port();
    same_server
        .then(|| control.get_database()?.parse().ok())
        .flatten()
}

async fn secret_manager(config: &RuntimeConfig) -> anyhow::Result<Arc<dyn SecretStore>> {
    #[cfg(feature = "secret-manager")]
    return Ok(Arc::new(
        crate::backends::secrets::SecretManagerStore::connect(config.project.clone())
            .await
            .context("building the Secret Manager client (SECRET_STORE=secret-manager)")?,
    ));
    // The config refuses SECRET_STORE=secret-manager in a binary built without the client.
    #[cfg(not(feature = "secret-manager"))]
    anyhow::bail!(
        "SECRET_STORE=secret-manager in {}: built without the `shared/secret-manager` feature",
        config.service
    )
}

/// The executable's file name, the service name when `K_SERVICE` is unset.
fn binary_name() -> String {
    std::env::args()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "groundskeeper-service".to_owned())
}

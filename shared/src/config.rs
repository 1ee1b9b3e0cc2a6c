//! The runtime's configuration: read once at start, every variable in the README's table.

use std::time::Duration;

use secrecy::SecretString;

use crate::{
    auth::{AuthConfig, GOOGLE_JWKS_URL},
    env::{ConfigError, Env},
};

/// Which secret store the service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretStoreKind {
    /// Versioned secrets in the control database.
    Local,
    /// Google Secret Manager.
    SecretManager,
}

/// Everything the runtime reads from the environment.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// `PORT`: where to listen (Cloud Run sets it).
    pub port: u16,
    /// `LISTEN_ADDRESS`: the interface to bind (`0.0.0.0` on Cloud Run; `127.0.0.1` locally).
    pub listen_address: std::net::IpAddr,
    /// `K_SERVICE`: the service name (Cloud Run sets it); defaults to the binary's name.
    pub service: String,
    /// `GOOGLE_CLOUD_PROJECT`: the project that holds topics and secrets.
    pub project: String,
    /// `PUBSUB_EMULATOR_HOST`: talk to the Pub/Sub emulator at this `host:port`.
    pub pubsub_emulator_host: Option<String>,
    /// `DEAD_LETTER_TOPIC`: where rejected deliveries go (default `<service>-dead-letter`).
    pub dead_letter_topic: String,
    /// `EVENTS_TOPIC`: where follow-up events go (default `groundskeeper-events`).
    pub events_topic: String,
    /// `DATABASE_URL`: the control database (idempotency ledger, local secrets, state).
    pub database_url: Option<SecretString>,
    /// `IDEMPOTENCY`: on by default when `DATABASE_URL` is set.
    pub idempotency: bool,
    /// `DELIVERY_TIMEOUT_SECS`: a delivery's handler is cut off (and retried) after this.
    pub delivery_timeout: Duration,
    /// `IDEMPOTENCY_LEASE_SECS`: how long a claimed delivery is protected from duplicates
    /// before it counts as crashed and may run again.
    pub lease: Duration,
    /// `IDEMPOTENCY_RETENTION_DAYS`: settled ledger entries older than this are pruned. It
    /// must outlast any redelivery: Pub/Sub retains unacked messages at most 7 days, and a
    /// subscription `seek` can replay a topic's retained messages up to 31 days back.
    pub ledger_retention: Duration,
    /// `SHUTDOWN_GRACE_SECS`: how long in-flight deliveries may finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// `PUSH_AUDIENCE`, `PUSH_ALLOWED_EMAILS`, `PUSH_JWKS_URL`. `None` only off Cloud Run
    /// or with `PUSH_AUTH=off-behind-iam` (see [`PUSH_AUTH_OFF_BEHIND_IAM`]).
    pub push_auth: Option<AuthConfig>,
    /// `OBJECT_STORE_URL`: `gs://bucket/prefix` or `file:///path`.
    pub object_store_url: Option<String>,
    /// `STORAGE_EMULATOR_HOST`: a Cloud Storage emulator endpoint (`http://host:port`).
    pub storage_emulator_host: Option<String>,
    /// `SECRET_STORE`: `local` (control database) or `secret-manager`.
    pub secret_store: SecretStoreKind,
    /// `LOG_FORMAT`: `json` (Cloud Logging, default) or `text`.
    pub log_json: bool,
    /// `MANAGED_DATABASE_URL`: an admin URL of the PostgreSQL server whose environment
    /// databases services manage (Cloud SQL's private IP or connector socket, or local).
    pub managed_database_url: Option<SecretString>,
    /// `MANAGED_DATABASE_HOST`, `MANAGED_DATABASE_PORT`, `MANAGED_DATABASE_SSLMODE`: what
    /// clients are told in credentials, when it differs from the admin URL's.
    pub managed_database_public: PublicAddress,
}

/// `PUSH_AUTH=off-behind-iam`: the operator states that something else authenticates pushes
/// (Cloud Run's IAM invoker check with `--no-allow-unauthenticated`, or a proxy), so a
/// service on Cloud Run may start without `PUSH_AUDIENCE`.
pub const PUSH_AUTH_OFF_BEHIND_IAM: &str = "off-behind-iam";

/// Default of `IDEMPOTENCY_RETENTION_DAYS`: longer than a topic's 31-day maximum retention.
pub const DEFAULT_LEDGER_RETENTION_DAYS: u64 = 32;

/// `DELIVERY_TIMEOUT_SECS` when unset.
pub const DEFAULT_DELIVERY_TIMEOUT_SECS: u64 = 50;

/// `IDEMPOTENCY_LEASE_SECS` when unset: the delivery timeout plus this.
pub const LEASE_MARGIN_SECS: u64 = 30;

/// Overrides of the managed server's address as clients see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicAddress {
    /// `MANAGED_DATABASE_HOST`.
    pub host: Option<String>,
    /// `MANAGED_DATABASE_PORT`.
    pub port: Option<u16>,
    /// `MANAGED_DATABASE_SSLMODE`: one of libpq's modes, checked at start.
    pub sslmode: Option<crate::credential::SslMode>,
}

impl RuntimeConfig {
    /// Reads the configuration; `default_service` names the service when `K_SERVICE` is unset.
    pub fn from_env(env: &Env, default_service: &str) -> Result<Self, ConfigError> {
        let service = env
            .optional("K_SERVICE")
            .unwrap_or_else(|| default_service.to_owned());
        let database_url = env.optional("DATABASE_URL").map(SecretString::from);
        let idempotency =
            match env.switch("IDEMPOTENCY")? {
                Some(true) if database_url.is_none() => return Err(ConfigError::new(
                    "IDEMPOTENCY",
                    "is on but DATABASE_URL is not set: the ledger lives in the control database",
                )),
                Some(on) => on,
                None => database_url.is_some(),
            };
        let delivery_timeout = Duration::from_secs(positive(
            env,
            "DELIVERY_TIMEOUT_SECS",
            DEFAULT_DELIVERY_TIMEOUT_SECS,
        )?);
        let lease = Duration::from_secs(positive(
            env,
            "IDEMPOTENCY_LEASE_SECS",
            delivery_timeout.as_secs() + LEASE_MARGIN_SECS,
        )?);
        if lease <= delivery_timeout {
            return Err(ConfigError::new(
                "IDEMPOTENCY_LEASE_SECS",
                "must be longer than DELIVERY_TIMEOUT_SECS, or a slow delivery would run twice",
            ));
        }
        let push_auth = push_auth(env)?;
        let retention_days = positive(
            env,
            "IDEMPOTENCY_RETENTION_DAYS",
            DEFAULT_LEDGER_RETENTION_DAYS,
        )?;
        if retention_days < 8 {
            return Err(ConfigError::new(
                "IDEMPOTENCY_RETENTION_DAYS",
                "must be at least 8: Pub/Sub redelivers for up to 7 days, and an event whose \
                 entry was pruned would run again",
            ));
        }
        let secret_store = match env.optional("SECRET_STORE").as_deref() {
            None | Some("local") => SecretStoreKind::Local,
            Some("secret-manager") => {
                built_with(
                    cfg!(feature = "secret-manager"),
                    "SECRET_STORE",
                    "secret-manager",
                )?;
                SecretStoreKind::SecretManager
            }
            Some(other) => {
                return Err(ConfigError::new(
                    "SECRET_STORE",
                    format!("invalid value {other:?}: expected local or secret-manager"),
                ))
            }
        };
        let object_store_url = env.optional("OBJECT_STORE_URL");
        if object_store_url
            .as_deref()
            .is_some_and(|u| u.starts_with("gs://"))
        {
            built_with(cfg!(feature = "gcs"), "OBJECT_STORE_URL", "gcs")?;
        }
        let log_json = match env.optional("LOG_FORMAT").as_deref() {
            None | Some("json") => true,
            Some("text") => false,
            Some(other) => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("invalid value {other:?}: expected json or text"),
                ))
            }
        };
        Ok(Self {
            port: env.parse_or("PORT", 8080)?,
            listen_address: env.parse_or("LISTEN_ADDRESS", [0, 0, 0, 0].into())?,
            project: env
                .optional("GOOGLE_CLOUD_PROJECT")
                .unwrap_or_else(|| "local-project".to_owned()),
            pubsub_emulator_host: env.optional("PUBSUB_EMULATOR_HOST"),
            dead_letter_topic: env
                .optional("DEAD_LETTER_TOPIC")
                .unwrap_or_else(|| format!("{service}-dead-letter")),
            events_topic: env
                .optional("EVENTS_TOPIC")
                .unwrap_or_else(|| "groundskeeper-events".to_owned()),
            service,
            database_url,
            idempotency,
            delivery_timeout,
            lease,
            ledger_retention: Duration::from_secs(retention_days * 24 * 3600),
            shutdown_grace: Duration::from_secs(positive(env, "SHUTDOWN_GRACE_SECS", 8)?),
            push_auth,
            object_store_url,
            storage_emulator_host: env.optional("STORAGE_EMULATOR_HOST"),
            secret_store,
            log_json,
            managed_database_url: env.optional("MANAGED_DATABASE_URL").map(SecretString::from),
            managed_database_public: PublicAddress {
                host: env.optional("MANAGED_DATABASE_HOST"),
                port: match env.optional("MANAGED_DATABASE_PORT") {
                    Some(_) => Some(env.parse_or("MANAGED_DATABASE_PORT", 5432)?),
                    None => None,
                },
                sslmode: env
                    .optional("MANAGED_DATABASE_SSLMODE")
                    .map(|mode| mode.parse())
                    .transpose()
                    .map_err(|e: String| ConfigError::new("MANAGED_DATABASE_SSLMODE", e))?,
            },
        })
    }
}

/// Push authentication: required on Cloud Run (`K_SERVICE` set) unless explicitly handed to
/// IAM; when configured, it names who may push, since any Google account can mint a token
/// for our audience.
fn push_auth(env: &Env) -> Result<Option<AuthConfig>, ConfigError> {
    let off_behind_iam = match env.optional("PUSH_AUTH").as_deref() {
        None => false,
        Some(PUSH_AUTH_OFF_BEHIND_IAM) => true,
        Some(other) => {
            return Err(ConfigError::new(
                "PUSH_AUTH",
                format!("invalid value {other:?}: the only value is {PUSH_AUTH_OFF_BEHIND_IAM}"),
            ))
        }
    };
    let Some(audience) = env.optional("PUSH_AUDIENCE") else {
        if env.optional("K_SERVICE").is_some() && !off_behind_iam {
            return Err(ConfigError::new(
                "PUSH_AUDIENCE",
                format!(
                    "is required on Cloud Run (with PUSH_ALLOWED_EMAILS), or set \
                     PUSH_AUTH={PUSH_AUTH_OFF_BEHIND_IAM} if Cloud Run's IAM check \
                     authenticates pushes"
                ),
            ));
        }
        return Ok(None);
    };
    if off_behind_iam {
        return Err(ConfigError::new(
            "PUSH_AUTH",
            "is off-behind-iam but PUSH_AUDIENCE is set: choose one",
        ));
    }
    let allowed_emails = env.list("PUSH_ALLOWED_EMAILS");
    if allowed_emails.is_empty() {
        return Err(ConfigError::new(
            "PUSH_ALLOWED_EMAILS",
            "is required with PUSH_AUDIENCE: without it anyone could mint an accepted token",
        ));
    }
    Ok(Some(AuthConfig {
        audience,
        allowed_emails,
        jwks_url: env
            .optional("PUSH_JWKS_URL")
            .unwrap_or_else(|| GOOGLE_JWKS_URL.to_owned()),
    }))
}

/// Refuses `variable` when it asks for a backend whose Google client this binary was built
/// without (see the features in shared's Cargo.toml).
fn built_with(enabled: bool, variable: &str, feature: &str) -> Result<(), ConfigError> {
    if enabled {
        return Ok(());
    }
    Err(ConfigError::new(
        variable,
        format!(
            "this service was built without that backend; build it with the \
             `shared/{feature}` cargo feature"
        ),
    ))
}

fn positive(env: &Env, name: &str, default: u64) -> Result<u64, ConfigError> {
    match env.parse_or(name, default)? {
        0 => Err(ConfigError::new(name, "must be greater than zero")),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_suit_a_local_run() {
        let cfg = RuntimeConfig::from_env(&Env::default(), "echo").unwrap();
        assert_eq!(cfg.port, 8080);
        assert_eq!(cfg.service, "echo");
        assert_eq!(cfg.dead_letter_topic, "echo-dead-letter");
        assert!(!cfg.idempotency, "no database, no ledger");
        assert!(cfg.push_auth.is_none());
        assert!(cfg.lease > cfg.delivery_timeout);
    }

    #[test]
    fn a_backend_built_without_is_refused_naming_variable_and_feature() {
        assert!(built_with(true, "OBJECT_STORE_URL", "gcs").is_ok());
        let err = built_with(false, "OBJECT_STORE_URL", "gcs").unwrap_err();
        assert_eq!(err.name, "OBJECT_STORE_URL");
        assert!(err.reason.contains("`shared/gcs`"), "{}", err.reason);
    }

    #[test]
    fn idempotency_without_a_database_is_refused_by_name() {
        let env = Env::from_pairs([("IDEMPOTENCY", "on")]);
        let err = RuntimeConfig::from_env(&env, "echo").unwrap_err();
        assert_eq!(err.name, "IDEMPOTENCY");
    }

    #[test]
    fn a_public_sslmode_must_be_one_of_libpqs() {
        let env = Env::from_pairs([("MANAGED_DATABASE_SSLMODE", "sometimes")]);
        let err = RuntimeConfig::from_env(&env, "echo").unwrap_err();
        assert_eq!(err.name, "MANAGED_DATABASE_SSLMODE");
        let env = Env::from_pairs([("MANAGED_DATABASE_SSLMODE", "verify-full")]);
        let cfg = RuntimeConfig::from_env(&env, "echo").unwrap();
        let mode = cfg.managed_database_public.sslmode;
        assert_eq!(mode, Some(crate::credential::SslMode::VerifyFull));
    }

    #[test]
    fn a_lease_shorter_than_the_timeout_is_refused() {
        let env = Env::from_pairs([
            ("DELIVERY_TIMEOUT_SECS", "60"),
            ("IDEMPOTENCY_LEASE_SECS", "30"),
        ]);
        let err = RuntimeConfig::from_env(&env, "echo").unwrap_err();
        assert_eq!(err.name, "IDEMPOTENCY_LEASE_SECS");
    }

    #[test]
    fn push_auth_reads_audience_and_allowlist() {
        let env = Env::from_pairs([
            ("PUSH_AUDIENCE", "https://svc.run.app"),
            ("PUSH_ALLOWED_EMAILS", "push@p.iam.gserviceaccount.com"),
        ]);
        let auth = RuntimeConfig::from_env(&env, "echo")
            .unwrap()
            .push_auth
            .unwrap();
        assert_eq!(auth.audience, "https://svc.run.app");
        assert_eq!(auth.allowed_emails, ["push@p.iam.gserviceaccount.com"]);
        assert_eq!(auth.jwks_url, GOOGLE_JWKS_URL);
    }

    #[test]
    fn on_cloud_run_push_auth_is_required_unless_handed_to_iam() {
        let env = Env::from_pairs([("K_SERVICE", "echo")]);
        let err = RuntimeConfig::from_env(&env, "echo").unwrap_err();
        assert_eq!(err.name, "PUSH_AUDIENCE");
        assert!(
            err.reason.contains("PUSH_AUTH=off-behind-iam"),
            "{}",
            err.reason
        );

        let env = Env::from_pairs([("K_SERVICE", "echo"), ("PUSH_AUTH", "off-behind-iam")]);
        let cfg = RuntimeConfig::from_env(&env, "echo").unwrap();
        assert!(cfg.push_auth.is_none());

        let env = Env::from_pairs([("K_SERVICE", "echo"), ("PUSH_AUTH", "off")]);
        assert_eq!(
            RuntimeConfig::from_env(&env, "echo").unwrap_err().name,
            "PUSH_AUTH"
        );
    }

    #[test]
    fn an_audience_without_an_allow_list_is_refused_everywhere() {
        for pairs in [
            vec![("PUSH_AUDIENCE", "https://svc.run.app")],
            vec![
                ("PUSH_AUDIENCE", "https://svc.run.app"),
                ("K_SERVICE", "echo"),
            ],
        ] {
            let err = RuntimeConfig::from_env(&Env::from_pairs(pairs), "echo").unwrap_err();
            assert_eq!(err.name, "PUSH_ALLOWED_EMAILS");
        }
    }

    #[test]
    fn ledger_retention_outlasts_pubsub_redelivery() {
        let cfg = RuntimeConfig::from_env(&Env::default(), "echo").unwrap();
        assert_eq!(cfg.ledger_retention, Duration::from_secs(32 * 24 * 3600));
        let env = Env::from_pairs([("IDEMPOTENCY_RETENTION_DAYS", "7")]);
        let err = RuntimeConfig::from_env(&env, "echo").unwrap_err();
        assert_eq!(err.name, "IDEMPOTENCY_RETENTION_DAYS");
    }

    #[test]
    fn a_database_url_never_shows_in_debug_output() {
        let env = Env::from_pairs([("DATABASE_URL", "postgres://u:hunter2@h/db")]);
        let cfg = RuntimeConfig::from_env(&env, "echo").unwrap();
        assert!(cfg.idempotency);
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}

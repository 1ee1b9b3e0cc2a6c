//! The manifest: one declarative TOML file per environment, checked into the repository.
//!
//! Everything here is plain data; a `[[service]]` takes what it leaves out from the service
//! registry (`registry`), [`validate`] checks what serde cannot, and [`Manifest::load`]
//! refuses an invalid file before anything touches the cloud.

mod registry;
mod retry_window;
pub mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use validate::ManifestError;

/// Where the manifest is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A real Google Cloud project: HTTPS push endpoints with OIDC, Cloud Scheduler, Budgets.
    Google,
    /// The Pub/Sub emulator: loopback push endpoints, no OIDC, our own scheduler loop.
    Emulator,
}

/// The whole file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Google Cloud project id (the emulator accepts any).
    pub project: String,
    /// Where the manifest is applied.
    pub mode: Mode,
    /// Region of the Cloud Run services and Cloud Scheduler jobs (required in google mode).
    pub region: Option<String>,
    /// Topic every service publishes its follow-up events to.
    #[serde(default = "default_events_topic")]
    pub events_topic: String,
    /// Subscription settings every service inherits unless it overrides them.
    #[serde(default)]
    pub defaults: SubscriptionSettings,
    /// The services and what triggers them.
    #[serde(default, rename = "service")]
    pub services: Vec<Service>,
    /// Cloud Scheduler jobs (run by our own loop in emulator mode).
    #[serde(default, rename = "job")]
    pub jobs: Vec<Job>,
    /// Cloud Billing budgets, one per environment tier.
    pub budgets: Option<Budgets>,
    /// Project-wide IAM facts (the Pub/Sub service agent).
    pub iam: Option<IamSettings>,
}

fn default_events_topic() -> String {
    "groundskeeper-events".to_owned()
}

/// Delivery settings of a push subscription. Every field is optional in the file; the
/// built-in defaults are in [`SubscriptionSettings::resolved`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSettings {
    /// Ack deadline; the services' per-delivery timeout stays below it.
    pub ack_deadline_secs: Option<i32>,
    /// Retry policy: first redelivery delay.
    pub min_backoff_secs: Option<i64>,
    /// Retry policy: longest redelivery delay.
    pub max_backoff_secs: Option<i64>,
    /// How long unacked messages are kept.
    pub message_retention_secs: Option<i64>,
    /// Deliveries before a message goes to the dead-letter topic (at least 5).
    pub max_delivery_attempts: Option<i32>,
}

/// Settings with every default filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub ack_deadline_secs: i32,
    pub min_backoff_secs: i64,
    pub max_backoff_secs: i64,
    pub message_retention_secs: i64,
    pub max_delivery_attempts: i32,
}

impl SubscriptionSettings {
    /// `self` over `base` over the built-in defaults.
    pub fn resolved(&self, base: &SubscriptionSettings) -> Resolved {
        Resolved {
            ack_deadline_secs: self
                .ack_deadline_secs
                .or(base.ack_deadline_secs)
                .unwrap_or(60),
            min_backoff_secs: self
                .min_backoff_secs
                .or(base.min_backoff_secs)
                .unwrap_or(10),
            max_backoff_secs: self
                .max_backoff_secs
                .or(base.max_backoff_secs)
                .unwrap_or(600),
            message_retention_secs: self
                .message_retention_secs
                .or(base.message_retention_secs)
                .unwrap_or(7 * 24 * 3600),
            max_delivery_attempts: self
                .max_delivery_attempts
                .or(base.max_delivery_attempts)
                .unwrap_or(10),
        }
    }
}

/// One service and its push subscription(s).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Service name, e.g. `env-provisioner`: one of `events::platform::SERVICES`, whose entry
    /// gives what this table leaves out. Prefixes its subscriptions and dead-letter topic.
    pub name: String,
    /// Topics that trigger it; one push subscription each (default: the registry's).
    pub topics: Vec<String>,
    /// The URL Pub/Sub pushes to.
    pub push_endpoint: String,
    /// OIDC token settings (required in `google` mode).
    pub oidc: Option<Oidc>,
    /// The service's runtime account (an email), which `apply` grants `roles` on the project.
    pub runtime_account: Option<String>,
    /// Roles the runtime account needs on the project (google mode: granted and checked;
    /// default there: the registry's).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Cloud Run service name, for the `run.invoker` grant (defaults to `name`).
    pub cloud_run_service: Option<String>,
    /// A valid event doctor sends as a synthetic probe (default: the registry's).
    pub probe: Option<Probe>,
    /// Per-service overrides of `[defaults]` (in google mode the ack deadline defaults to the
    /// registry's when it has one).
    #[serde(flatten)]
    pub settings: SubscriptionSettings,
}

/// A synthetic event for doctor's end-to-end probe.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// CloudEvents type.
    pub event_type: String,
    /// A valid JSON body for that type.
    pub data: toml::Table,
    /// Extra message attributes, for types read from attributes (e.g. Secret Manager
    /// notifications' `eventType` and `secretId`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// The OIDC token Pub/Sub attaches to each push.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Oidc {
    /// The push service account Pub/Sub mints the token for.
    pub service_account: Option<String>,
    /// The token's audience (the service URL).
    pub audience: Option<String>,
}

/// A scheduled job publishing one of our typed events.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Job name, e.g. `rotation-sweep`.
    pub name: String,
    /// Unix cron, five fields.
    pub schedule: String,
    /// IANA time zone name.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// The service this job triggers (must be a `[[service]]`).
    pub service: String,
    /// Topic the message is published to (one of that service's topics).
    pub topic: String,
    /// CloudEvents type, sent as the `ce-type` attribute.
    pub event_type: String,
    /// Extra attributes (the `ce-*` ones are added).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The JSON body: our typed payload.
    pub data: toml::Table,
}

fn default_time_zone() -> String {
    "Etc/UTC".to_owned()
}

/// Budgets on the billing account, wired to the budget-alerts topic.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// Billing account id, `XXXXXX-XXXXXX-XXXXXX`.
    pub billing_account: String,
    /// Topic for notifications (must be a trigger topic of some service).
    pub topic: String,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Threshold fractions (0.5 = 50 %).
    #[serde(default = "default_thresholds")]
    pub thresholds: Vec<f64>,
    /// One budget per environment tier.
    #[serde(rename = "tier")]
    pub tiers: Vec<Tier>,
    /// Members besides Cloud Billing's own account who may publish to `topic`
    /// (`serviceAccount:EMAIL`, e.g. a pipeline that replays notifications). `apply` removes
    /// `roles/pubsub.publisher` on the topic from everyone else: whoever can publish there
    /// can forge a budget notification.
    #[serde(default)]
    pub publishers: Vec<String>,
}

fn default_thresholds() -> Vec<f64> {
    vec![0.5, 0.8, 1.0]
}

/// A tier's monthly budget.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Tier name (`dev`, `staging`, ...), the value of the `tier` label (`events::labels::TIER`) budgets filter on.
    pub name: String,
    /// Decimal amount as a string so cents survive: `"250.50"`.
    pub amount: String,
}

/// Project-wide IAM facts.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IamSettings {
    /// `service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com`.
    pub pubsub_service_agent: String,
}

impl Manifest {
    /// Parses a manifest, fills in each service's registry defaults and validates it; any
    /// error names the offending field.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let syntax = |e: toml::de::Error| ManifestError::Syntax(e.to_string());
        let mut table: toml::Table = toml::from_str(text).map_err(syntax)?;
        registry::fill_in(&mut table)?;
        let manifest: Manifest = table.try_into().map_err(syntax)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ManifestError::Read(path.display().to_string(), e.to_string()))?;
        Self::parse(&text)
    }

    /// The service with this name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The job with this name.
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

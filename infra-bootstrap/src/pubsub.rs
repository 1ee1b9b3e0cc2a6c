//! Topics and subscriptions on the official Pub/Sub admin clients, on Google Cloud or on
//! the emulator (which the client does not find by itself: we pass its endpoint).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use google_cloud_gax::paginator::ItemPaginator;
use google_cloud_pubsub::client::{SubscriptionAdmin, TopicAdmin};
use google_cloud_pubsub::model::{
    push_config::OidcToken, DeadLetterPolicy, ExpirationPolicy, PushConfig, RetryPolicy,
    Subscription,
};
use google_cloud_wkt::{Duration, FieldMask};

use crate::desired::{OidcSpec, SubscriptionSpec, TopicSpec};
use crate::store::Store;

/// The admin clients of one project.
#[derive(Clone, Debug)]
pub struct PubsubAdmin {
    pub project: String,
    pub topics: TopicAdmin,
    pub subscriptions: SubscriptionAdmin,
    /// The emulator's `HOST:PORT`, when on the emulator.
    pub emulator: Option<String>,
}

impl PubsubAdmin {
    /// Clients for Google Cloud (default credentials), or for the emulator at
    /// `emulator` (`HOST:PORT`, anonymous credentials).
    pub async fn connect(project: &str, emulator: Option<&str>) -> anyhow::Result<Self> {
        let mut topics = TopicAdmin::builder();
        let mut subscriptions = SubscriptionAdmin::builder();
        if let Some(host) = emulator {
            let endpoint = format!("http://{host}");
            let anon = || google_cloud_auth::credentials::anonymous::Builder::new().build();
            topics = topics.with_endpoint(&endpoint).with_credentials(anon());
            subscriptions = subscriptions
                .with_endpoint(&endpoint)
                .with_credentials(anon());
        }
        Ok(Self {
            project: project.to_owned(),
            topics: topics.build().await?,
            subscriptions: subscriptions.build().await?,
            emulator: emulator.map(str::to_owned),
        })
    }

    /// `projects/P/topics/ID`.
    pub fn topic_path(&self, id: &str) -> String {
        format!("projects/{}/topics/{id}", self.project)
    }

    /// `projects/P/subscriptions/ID`.
    pub fn subscription_path(&self, id: &str) -> String {
        format!("projects/{}/subscriptions/{id}", self.project)
    }

    /// Every subscription of the project, as specs.
    pub async fn list_subscriptions(&self) -> anyhow::Result<Vec<SubscriptionSpec>> {
        let mut items = self
            .subscriptions
            .list_subscriptions()
            .set_project(format!("projects/{}", self.project))
            .by_item();
        let mut out = Vec::new();
        while let Some(sub) = items.next().await {
            out.push(to_spec(&sub?));
        }
        Ok(out)
    }
}

fn short(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

fn labels(map: &HashMap<String, String>) -> BTreeMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A live subscription as a spec (for the plan and for doctor).
pub fn to_spec(sub: &Subscription) -> SubscriptionSpec {
    let push = sub
        .push_config
        .as_ref()
        .filter(|p| !p.push_endpoint.is_empty());
    SubscriptionSpec {
        name: short(&sub.name),
        topic: short(&sub.topic),
        push_endpoint: push.map(|p| p.push_endpoint.clone()),
        oidc: push.and_then(|p| p.oidc_token()).map(|o| OidcSpec {
            service_account: o.service_account_email.clone(),
            audience: o.audience.clone(),
        }),
        ack_deadline_secs: sub.ack_deadline_seconds,
        backoff_secs: sub.retry_policy.as_ref().map(|r| {
            let secs = |d: &Option<Duration>| d.as_ref().map_or(0, Duration::seconds);
            (secs(&r.minimum_backoff), secs(&r.maximum_backoff))
        }),
        message_retention_secs: sub
            .message_retention_duration
            .as_ref()
            .map_or(0, Duration::seconds),
        // No policy at all means the server default: expire after 31 idle days.
        expiration_ttl_secs: match &sub.expiration_policy {
            None => Some(31 * 24 * 3600),
            Some(p) => p.ttl.as_ref().map(Duration::seconds).filter(|s| *s > 0),
        },
        dead_letter: sub
            .dead_letter_policy
            .as_ref()
            .filter(|d| !d.dead_letter_topic.is_empty())
            .map(|d| (short(&d.dead_letter_topic), d.max_delivery_attempts)),
        labels: labels(&sub.labels),
    }
}

impl PubsubAdmin {
    /// A spec as the API's subscription.
    pub fn to_model(&self, spec: &SubscriptionSpec) -> Subscription {
        let secs = |s: i64| Duration::clamp(s, 0);
        let push = spec.push_endpoint.as_ref().map(|endpoint| {
            let config = PushConfig::new().set_push_endpoint(endpoint);
            match &spec.oidc {
                Some(o) => config.set_oidc_token(
                    OidcToken::new()
                        .set_service_account_email(&o.service_account)
                        .set_audience(&o.audience),
                ),
                None => config,
            }
        });
        let expiration = match spec.expiration_ttl_secs {
            None => ExpirationPolicy::new(),
            Some(ttl) => ExpirationPolicy::new().set_ttl(secs(ttl)),
        };
        Subscription::new()
            .set_name(self.subscription_path(&spec.name))
            .set_topic(self.topic_path(&spec.topic))
            .set_or_clear_push_config(push)
            .set_ack_deadline_seconds(spec.ack_deadline_secs)
            .set_message_retention_duration(secs(spec.message_retention_secs))
            .set_expiration_policy(expiration)
            .set_or_clear_retry_policy(spec.backoff_secs.map(|(min, max)| {
                RetryPolicy::new()
                    .set_minimum_backoff(secs(min))
                    .set_maximum_backoff(secs(max))
            }))
            .set_or_clear_dead_letter_policy(spec.dead_letter.as_ref().map(|(topic, attempts)| {
                DeadLetterPolicy::new()
                    .set_dead_letter_topic(self.topic_path(topic))
                    .set_max_delivery_attempts(*attempts)
            }))
            .set_labels(spec.labels.clone())
    }
}

/// The API field behind each plan field, for the update mask.
fn mask_path(field: &str) -> &'static str {
    match field {
        "push_endpoint" | "oidc_service_account" | "oidc_audience" => "push_config",
        "ack_deadline_secs" => "ack_deadline_seconds",
        "retry_backoff_secs" => "retry_policy",
        "message_retention_secs" => "message_retention_duration",
        "expiration" => "expiration_policy",
        "dead_letter" => "dead_letter_policy",
        _ => "labels",
    }
}

#[async_trait]
impl Store<TopicSpec> for PubsubAdmin {
    async fn list(&self) -> anyhow::Result<Vec<TopicSpec>> {
        let mut items = self
            .topics
            .list_topics()
            .set_project(format!("projects/{}", self.project))
            .by_item();
        let mut out = Vec::new();
        while let Some(topic) = items.next().await {
            let topic = topic?;
            out.push(TopicSpec {
                name: short(&topic.name),
                labels: labels(&topic.labels),
            });
        }
        Ok(out)
    }

    async fn create(&self, spec: &TopicSpec) -> anyhow::Result<()> {
        self.topics
            .create_topic()
            .set_name(self.topic_path(&spec.name))
            .set_labels(spec.labels.clone())
            .send()
            .await?;
        Ok(())
    }

    async fn update(&self, spec: &TopicSpec, _fields: &[&'static str]) -> anyhow::Result<()> {
        let topic = google_cloud_pubsub::model::Topic::new()
            .set_name(self.topic_path(&spec.name))
            .set_labels(spec.labels.clone());
        self.topics
            .update_topic()
            .set_topic(topic)
            .set_update_mask(FieldMask::default().set_paths(["labels"]))
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> anyhow::Result<()> {
        self.topics
            .delete_topic()
            .set_topic(self.topic_path(name))
            .send()
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Store<SubscriptionSpec> for PubsubAdmin {
    async fn list(&self) -> anyhow::Result<Vec<SubscriptionSpec>> {
        self.list_subscriptions().await
    }

    async fn create(&self, spec: &SubscriptionSpec) -> anyhow::Result<()> {
        self.subscriptions
            .create_subscription()
            .with_request(self.to_model(spec))
            .send()
            .await?;
        Ok(())
    }

    async fn update(&self, spec: &SubscriptionSpec, fields: &[&'static str]) -> anyhow::Result<()> {
        // A subscription cannot move to another topic, and replacing it here would drop its
        // backlog unannounced: the plan makes that a `recreate`, which apply must be allowed.
        anyhow::ensure!(
            !fields.contains(&"topic"),
            "subscription {}: the topic cannot change in place (plan it as a re-create)",
            spec.name
        );
        let mut paths: Vec<&str> = fields.iter().map(|f| mask_path(f)).collect();
        paths.dedup();
        self.subscriptions
            .update_subscription()
            .set_subscription(self.to_model(spec))
            .set_update_mask(FieldMask::default().set_paths(paths))
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> anyhow::Result<()> {
        self.subscriptions
            .delete_subscription()
            .set_subscription(self.subscription_path(name))
            .send()
            .await?;
        Ok(())
    }
}

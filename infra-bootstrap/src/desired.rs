//! The desired state: the manifest turned into one spec per resource, with names and
//! defaults resolved. Live readers produce the same specs, so the plan compares like with like.

use std::collections::BTreeMap;

use crate::manifest::{Manifest, Mode};
use crate::plan::Spec;

use events::labels::{is_managed, MANAGED_BY, MANAGED_BY_VALUE};

/// Labels every managed resource carries (`destroy` removes only resources carrying them).
pub fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned())])
}

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Short topic id.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// OIDC settings of a push subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSpec {
    pub service_account: String,
    pub audience: String,
}

/// A subscription (push to a service, or pull on a dead-letter topic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSpec {
    /// Short subscription id.
    pub name: String,
    /// Short topic id.
    pub topic: String,
    /// Push endpoint; `None` for a pull subscription.
    pub push_endpoint: Option<String>,
    /// OIDC token settings of the push.
    pub oidc: Option<OidcSpec>,
    pub ack_deadline_secs: i32,
    /// `None` when no retry policy is set (immediate redelivery).
    pub backoff_secs: Option<(i64, i64)>,
    pub message_retention_secs: i64,
    /// `None` means never expires; `Some(ttl)` is the trap doctor looks for.
    pub expiration_ttl_secs: Option<i64>,
    /// Dead-letter topic (short id) and max delivery attempts.
    pub dead_letter: Option<(String, i32)>,
    pub labels: BTreeMap<String, String>,
}

/// Everything the manifest wants on Pub/Sub, in creation order.
#[derive(Debug, Clone, Default)]
pub struct PubsubState {
    pub topics: Vec<TopicSpec>,
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// The dead-letter topic of a service.
pub fn dead_letter_topic(service: &str) -> String {
    format!("{service}-dead-letter")
}

/// The pull subscription on a service's dead-letter topic.
pub fn dead_letter_subscription(service: &str) -> String {
    format!("{service}-dead-letter-sub")
}

/// The push subscription of a service on one of its trigger topics.
pub fn push_subscription(service: &str, topic: &str) -> String {
    format!("{service}--{topic}")
}

impl Manifest {
    /// Topics and subscriptions the manifest wants.
    pub fn desired_pubsub(&self) -> PubsubState {
        let mut topic_names: Vec<String> = vec![self.events_topic.clone()];
        let mut subscriptions = Vec::new();
        for s in &self.services {
            let r = s.settings.resolved(&self.defaults);
            let dlq = dead_letter_topic(&s.name);
            topic_names.extend(s.topics.iter().cloned());
            topic_names.push(dlq.clone());
            let oidc = match (self.mode, &s.oidc) {
                (Mode::Google, Some(o)) => Some(OidcSpec {
                    service_account: o.service_account.clone().unwrap_or_default(),
                    audience: o.audience.clone().unwrap_or_default(),
                }),
                _ => None,
            };
            for topic in &s.topics {
                subscriptions.push(SubscriptionSpec {
                    name: push_subscription(&s.name, topic),
                    topic: topic.clone(),
                    push_endpoint: Some(s.push_endpoint.clone()),
                    oidc: oidc.clone(),
                    ack_deadline_secs: r.ack_deadline_secs,
                    backoff_secs: Some((r.min_backoff_secs, r.max_backoff_secs)),
                    message_retention_secs: r.message_retention_secs,
                    expiration_ttl_secs: None,
                    dead_letter: Some((dlq.clone(), r.max_delivery_attempts)),
                    labels: managed_labels(),
                });
            }
            // The dead-letter sub keeps messages as long as Pub/Sub allows: it is the record
            // of what failed, read by an operator, not by a service.
            subscriptions.push(SubscriptionSpec {
                name: dead_letter_subscription(&s.name),
                topic: dlq,
                push_endpoint: None,
                oidc: None,
                ack_deadline_secs: r.ack_deadline_secs,
                backoff_secs: None,
                message_retention_secs: 7 * 24 * 3600,
                expiration_ttl_secs: None,
                dead_letter: None,
                labels: managed_labels(),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        topic_names.retain(|t| seen.insert(t.clone()));
        let topics = topic_names
            .into_iter()
            .map(|name| TopicSpec {
                name,
                labels: managed_labels(),
            })
            .collect();
        PubsubState {
            topics,
            subscriptions,
        }
    }
}

fn labels_field(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl Spec for TopicSpec {
    const KIND: &'static str = "topic";
    fn name(&self) -> &str {
        &self.name
    }
    fn managed(&self) -> bool {
        is_managed(&self.labels)
    }
    fn fields(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([("labels", labels_field(&self.labels))])
    }
}

impl Spec for SubscriptionSpec {
    const KIND: &'static str = "subscription";
    // Pub/Sub cannot move a subscription to another topic; deleting it drops what it holds.
    const RECREATE_ON: &'static [&'static str] = &["topic"];
    const RECREATE_LOSES: &'static str =
        "its backlog: every message not yet acknowledged is gone for good";
    fn name(&self) -> &str {
        &self.name
    }
    fn managed(&self) -> bool {
        is_managed(&self.labels)
    }
    fn fields(&self) -> BTreeMap<&'static str, String> {
        let none = || "-".to_owned();
        let (sa, aud) = self.oidc.as_ref().map_or((none(), none()), |o| {
            (o.service_account.clone(), o.audience.clone())
        });
        BTreeMap::from([
            ("topic", self.topic.clone()),
            (
                "push_endpoint",
                self.push_endpoint
                    .clone()
                    .unwrap_or_else(|| "(pull)".into()),
            ),
            ("oidc_service_account", sa),
            ("oidc_audience", aud),
            ("ack_deadline_secs", self.ack_deadline_secs.to_string()),
            (
                "retry_backoff_secs",
                self.backoff_secs
                    .map_or_else(none, |(a, b)| format!("{a}..{b}")),
            ),
            (
                "message_retention_secs",
                self.message_retention_secs.to_string(),
            ),
            (
                "expiration",
                self.expiration_ttl_secs
                    .map_or("never".into(), |t| format!("{t}s")),
            ),
            (
                "dead_letter",
                self.dead_letter
                    .as_ref()
                    .map_or_else(none, |(t, n)| format!("{t} after {n}")),
            ),
            ("labels", labels_field(&self.labels)),
        ])
    }
}

//! [`Publisher`] on the official `google-cloud-pubsub` client, against Pub/Sub or its
//! emulator.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use events::Message;
use google_cloud_gax::retry_policy::RetryPolicyExt;
use google_cloud_pubsub::client::{BasePublisher, Publisher as TopicPublisher};
use google_cloud_pubsub::retry_policy::RetryableErrors;
use tokio::sync::OnceCell;

use super::{PublishError, Publisher};

/// How long one publish keeps retrying transient errors. Far below the client's default
/// (10 minutes): a delivery that cannot publish should fail and be redelivered, not hang.
const RETRY_TIME_LIMIT: Duration = Duration::from_secs(30);

/// How long the client waits to batch messages. The default (10 ms) would add that much to
/// every delivery that publishes one message; concurrent publishes still share batches.
const BATCH_DELAY: Duration = Duration::from_millis(1);

/// A publisher configuration that cannot work (found before anything is contacted).
#[derive(Debug, thiserror::Error)]
#[error("Pub/Sub publisher configuration: {0}")]
pub struct PublisherSetupError(String);

/// Publishes to `projects/{project}/topics/{topic}` with the official client.
///
/// Cheap to create: the gRPC client is built on the first publish (start-up latency
/// matters on Cloud Run) and one batching publisher per topic is cached after that.
#[derive(Debug)]
pub struct PubsubPublisher {
    project_id: String,
    endpoint: Option<String>,
    client: OnceCell<BasePublisher>,
    topics: Mutex<HashMap<String, TopicPublisher>>,
}

impl PubsubPublisher {
    /// A publisher for `project_id`. With `emulator_host` (`HOST:PORT` as in
    /// `PUBSUB_EMULATOR_HOST`, or `http://HOST:PORT`) it talks to the emulator with
    /// anonymous credentials; without, to Pub/Sub with Application Default Credentials.
    pub fn new(project_id: &str, emulator_host: Option<&str>) -> Result<Self, PublisherSetupError> {
        if project_id.is_empty() || project_id.contains('/') {
            return Err(PublisherSetupError(format!(
                "`{project_id}` is not a project id"
            )));
        }
        let endpoint = match emulator_host.map(str::trim) {
            None => None,
            Some("") => return Err(PublisherSetupError("the emulator host is empty".to_owned())),
            Some(host) if host.contains("://") => Some(host.trim_end_matches('/').to_owned()),
            Some(host) => Some(format!("http://{host}")),
        };
        Ok(Self {
            project_id: project_id.to_owned(),
            endpoint,
            client: OnceCell::new(),
            topics: Mutex::new(HashMap::new()),
        })
    }

    async fn client(&self) -> Result<&BasePublisher, String> {
        self.client
            .get_or_try_init(|| async {
                let mut builder = BasePublisher::builder()
                    .with_retry_policy(RetryableErrors.with_time_limit(RETRY_TIME_LIMIT));
                if let Some(endpoint) = &self.endpoint {
                    // The client does not read PUBSUB_EMULATOR_HOST; the emulator wants no auth.
                    builder = builder.with_endpoint(endpoint).with_credentials(
                        google_cloud_auth::credentials::anonymous::Builder::new().build(),
                    );
                }
                builder
                    .build()
                    .await
                    .map_err(|e| format!("building the Pub/Sub client: {e}"))
            })
            .await
    }

    async fn topic(&self, topic: &str) -> Result<TopicPublisher, String> {
        if let Some(publisher) = self.lock_topics().get(topic) {
            return Ok(publisher.clone());
        }
        let client = self.client().await?;
        let path = format!("projects/{}/topics/{topic}", self.project_id);
        let built = client
            .publisher(path)
            .set_delay_threshold(BATCH_DELAY)
            .build();
        // Two first publishes may race here; keep whichever landed first.
        Ok(self
            .lock_topics()
            .entry(topic.to_owned())
            .or_insert(built)
            .clone())
    }

    fn lock_topics(&self) -> std::sync::MutexGuard<'_, HashMap<String, TopicPublisher>> {
        self.topics.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Publisher for PubsubPublisher {
    async fn publish(&self, topic: &str, message: Message) -> Result<String, PublishError> {
        let fail = |reason: String| PublishError {
            topic: topic.to_owned(),
            reason,
        };
        let publisher = self.topic(topic).await.map_err(fail)?;
        let mut outgoing = google_cloud_pubsub::model::Message::new()
            .set_data(message.data)
            .set_attributes(message.attributes);
        if let Some(key) = &message.ordering_key {
            outgoing = outgoing.set_ordering_key(key);
        }
        publisher.publish(outgoing).await.map_err(|e| {
            // A failure pauses the ordering key; the caller's retry must be able to go through.
            if let Some(key) = &message.ordering_key {
                publisher.resume_publish(key);
            }
            fail(e.to_string())
        })
    }
}

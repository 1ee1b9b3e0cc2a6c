//! Publishing a message to a topic with the official Pub/Sub publisher (one per topic,
//! kept), on Google Cloud or on the emulator.

use std::collections::HashMap;

use async_trait::async_trait;
use google_cloud_pubsub::client::Publisher;
use google_cloud_pubsub::model::Message;
use tokio::sync::Mutex;

use crate::scheduler::JobMessage;

/// Publishes one message to a topic (short id) and returns its message id.
#[async_trait]
pub trait Publish: Send + Sync {
    async fn publish(&self, topic: &str, message: JobMessage) -> anyhow::Result<String>;
}

/// The official publisher.
pub struct PubsubPublisher {
    project: String,
    emulator: Option<String>,
    publishers: Mutex<HashMap<String, Publisher>>,
}

impl PubsubPublisher {
    /// Publishes to `project`, on the emulator at `emulator` (`HOST:PORT`) when given.
    pub fn new(project: &str, emulator: Option<&str>) -> Self {
        Self {
            project: project.to_owned(),
            emulator: emulator.map(str::to_owned),
            publishers: Mutex::default(),
        }
    }

    async fn publisher(&self, topic: &str) -> anyhow::Result<Publisher> {
        let mut publishers = self.publishers.lock().await;
        if let Some(p) = publishers.get(topic) {
            return Ok(p.clone());
        }
        let mut builder = Publisher::builder(format!("projects/{}/topics/{topic}", self.project));
        if let Some(host) = &self.emulator {
            builder = builder
                .with_endpoint(format!("http://{host}"))
                .with_credentials(
                    google_cloud_auth::credentials::anonymous::Builder::new().build(),
                );
        }
        let publisher = builder.build().await?;
        publishers.insert(topic.to_owned(), publisher.clone());
        Ok(publisher)
    }
}

#[async_trait]
impl Publish for PubsubPublisher {
    async fn publish(&self, topic: &str, message: JobMessage) -> anyhow::Result<String> {
        let publisher = self.publisher(topic).await?;
        let msg = Message::new()
            .set_data(message.data)
            .set_attributes(message.attributes);
        Ok(publisher.publish(msg).await?)
    }
}

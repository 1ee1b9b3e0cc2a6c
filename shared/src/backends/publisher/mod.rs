//! The event bus: publishing messages to topics.
//!
//! [`PubsubPublisher`] talks to Pub/Sub (or its emulator); [`RecordingPublisher`] touches
//! nothing and records what would have been published, for dry runs and handler tests.

mod pubsub;
mod recording;

use async_trait::async_trait;
use events::Message;

pub use pubsub::{PublisherSetupError, PubsubPublisher};
pub use recording::RecordingPublisher;

/// Why a publish failed. Always worth a retry: the bus is down or slow.
#[derive(Debug, thiserror::Error)]
#[error("publishing to topic `{topic}` failed: {reason}")]
pub struct PublishError {
    /// The topic id.
    pub topic: String,
    /// What the client said.
    pub reason: String,
}

/// Publishes messages to a topic, named by its short id (the project comes from config).
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes one message and returns the server-assigned message id.
    async fn publish(&self, topic: &str, message: Message) -> Result<String, PublishError>;
}

//! secret-rotator: rotates managed database credentials without downtime (alternating login
//! roles, each step recorded before its side effect, single-flight per secret), cleans up old
//! versions after a grace period, and reminds people of secrets they rotate by hand. See the
//! README.
//!
//! [`handle`] is the handler; `main.rs` only reads the [`Config`] and runs it.

mod aliases;
mod config;
mod credential;
mod error;
mod failure;
pub mod fault;
mod grace;
mod lock;
mod login;
mod registry;
mod request;
mod restore;
mod rotate;
mod rotation_steps;
mod state;
mod steps;
mod sweep;

use std::sync::Arc;

use events::rotation::{RotationDue, RotationRequested};
use events::secret_manager::SecretManagerNotification;
use shared::{Ctx, Event, Outcome};

pub use config::Config;
pub use error::{RotateError, TooSoon};
pub use rotation_steps::RotationStep;
pub use shared::credential::Credential;

events::payload_enum! {
    /// Everything the rotator handles.
    #[derive(Debug)]
    pub enum RotatorEvent {
        /// The daily sweep.
        Due(RotationDue),
        /// Rotate a secret, or an environment's credentials, now.
        Requested(RotationRequested),
        /// Secret Manager's own notifications (`SECRET_ROTATE` rotates; others are ignored).
        SecretManager(SecretManagerNotification),
    }
}

/// Handles one event.
pub async fn handle(
    event: Event<RotatorEvent>,
    ctx: Ctx,
    config: Arc<Config>,
) -> Result<Outcome, RotateError> {
    match &event.data {
        RotatorEvent::Due(_) => sweep::sweep(&ctx, &config, &event.id).await,
        RotatorEvent::Requested(request) => {
            request::requested(&ctx, &config, request, &event.id).await
        }
        RotatorEvent::SecretManager(notification) => {
            request::notified(&ctx, &config, notification, &event.id).await
        }
    }
}

/// The handler for `shared::run`, with its configuration bound.
pub fn handler(config: Config) -> impl shared::Handler<RotatorEvent> {
    let config = Arc::new(config);
    move |event: Event<RotatorEvent>, ctx: Ctx| handle(event, ctx, config.clone())
}

pub mod migrations;

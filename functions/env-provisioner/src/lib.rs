//! env-provisioner: an isolated environment on request — PostgreSQL owner and login roles, a
//! database, credentials in the secret store, an object-store prefix or a bucket of its own,
//! optionally a Cloud Run preview service — removed again on request or when its TTL ends.
//! See the README.
//!
//! [`handle`] is the handler; `main.rs` only reads the [`Config`] and runs it.

mod claim;
mod config;
mod create;
mod error;
pub mod fault;
pub mod inventory;
mod labels;
mod objects;
pub mod previews;
mod provision;
mod request;
mod requests;
mod resources;
mod restore;
mod state;
mod steps;
mod storage;
mod teardown;
mod tombstones;

use std::sync::Arc;

use events::environment::{DeleteReason, TeardownRequested, TtlSweep};
use shared::{Ctx, Event, Outcome};

pub use claim::spec_hash;
pub use config::Config;
pub use error::ProvisionError;
pub use request::Request;
pub use steps::{ProvisionStep, STEPS};
pub use storage::{BucketMode, Storage};

events::payload_enum! {
    /// Everything the provisioner handles.
    #[derive(Debug)]
    pub enum ProvisionerEvent {
        /// Provision an environment (or record why not).
        Requested(Request),
        /// Remove one.
        Teardown(TeardownRequested),
        /// Remove the expired ones.
        Sweep(TtlSweep),
    }
}

/// Handles one event.
pub async fn handle(
    event: Event<ProvisionerEvent>,
    ctx: Ctx,
    config: Arc<Config>,
) -> Result<Outcome, ProvisionError> {
    let Event {
        id,
        source,
        ty,
        time,
        attributes,
        delivery_attempt,
        pubsub,
        data,
    } = event;
    match data {
        ProvisionerEvent::Requested(Request::Invalid { name, reason }) => {
            requests::refuse(&ctx, &id, &name, &reason).await?;
            Err(ProvisionError::Rejected(reason))
        }
        ProvisionerEvent::Requested(Request::Valid(data)) => {
            let event = Event {
                id,
                source,
                ty,
                time,
                attributes,
                delivery_attempt,
                pubsub,
                data,
            };
            provision::provision(event, ctx, &config).await
        }
        ProvisionerEvent::Teardown(request) => {
            let t = teardown::Teardown {
                name: &request.name,
                reason: DeleteReason::Requested,
                event_id: &id,
                at: time,
            };
            teardown::teardown(&t, &ctx, &config).await
        }
        ProvisionerEvent::Sweep(_) => teardown::sweep(&id, time, &ctx, &config).await,
    }
}

/// The handler for `shared::run`, with its configuration bound.
pub fn handler(config: Config) -> impl shared::Handler<ProvisionerEvent> {
    let config = Arc::new(config);
    move |event: Event<ProvisionerEvent>, ctx: Ctx| handle(event, ctx, config.clone())
}

pub mod migrations;

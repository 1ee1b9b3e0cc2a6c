//! budget-guard: graduated, authenticated, exactly reversible downscaling on Cloud Billing
//! budget alerts. See the README.
//!
//! [`handle`] is the handler; `main.rs` only reads the [`Config`] and runs it.

pub mod backends;
pub mod config;
pub mod decide;
mod dry_run;
mod error;
pub mod fault;
mod guard;
pub mod journal;
mod level;
pub mod migrations;
mod notified;
pub mod protect;
mod publish;
mod requested;
mod resume;
pub mod scope;
pub mod status;

use std::sync::Arc;

use events::budget::BudgetNotification;
use events::downscale::ResumeRequested;
use shared::{Ctx, Event, Outcome};

pub use config::Config;
pub use error::{GuardError, GuardStep};
pub use guard::Guard;

events::payload_enum! {
    /// Everything budget-guard handles.
    #[derive(Debug)]
    pub enum GuardEvent {
        /// Cloud Billing's budget notification.
        Notification(BudgetNotification),
        /// `groundskeeper budget resume`.
        Resume(ResumeRequested),
    }
}

/// Handles one event.
pub async fn handle(
    event: Event<GuardEvent>,
    ctx: Ctx,
    guard: Arc<Guard>,
) -> Result<Outcome, GuardError> {
    match &event.data {
        GuardEvent::Notification(n) => notified::notified(&ctx, &guard, n, &event.id).await,
        GuardEvent::Resume(r) => requested::resume_requested(&ctx, &guard, r).await,
    }
}

/// The handler for `shared::run`, over `guard`.
pub fn handler_with(guard: Guard) -> impl shared::Handler<GuardEvent> {
    let guard = Arc::new(guard);
    move |event: Event<GuardEvent>, ctx: Ctx| handle(event, ctx, guard.clone())
}

/// The handler for `shared::run`, with its configuration bound.
pub fn handler(config: Config) -> impl shared::Handler<GuardEvent> {
    handler_with(Guard::new(config))
}

/// The scope could not be listed: retried (the API or the inventory is unavailable).
fn scope_error(budget: &config::BudgetKey, e: &dyn std::fmt::Display) -> GuardError {
    GuardError::Transient {
        subject: budget.to_string(),
        step: GuardStep::Scope,
        reason: e.to_string(),
    }
}

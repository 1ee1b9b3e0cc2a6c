//! The flood (issue 14, section 3): the four services served over HTTP by the runtime's own
//! router, three replicas each on one control database and one PostgreSQL cluster, and a mix
//! of push-envelope deliveries fired at them at a given concurrency.
//! Shared by the bench (`benches/flood.rs`, figures) and the CI test (`tests/flood.rs`,
//! effects = unique events only).

pub mod effects;
pub mod load;
pub mod mix;
pub mod services;

use std::time::Duration;

pub use effects::Check;
pub use load::Fired;

/// One flood: its figures and its effect checks.
pub struct Flood {
    /// What the load generator saw.
    pub fired: Fired,
    /// Each effect against the number of unique events that should cause it.
    pub checks: Vec<Check>,
}

impl Flood {
    /// Whether every effect happened exactly as often as its unique events.
    pub fn effects_match(&self) -> bool {
        self.checks.iter().all(Check::holds)
    }
}

/// Starts fresh services, fires `deliveries` of the mix at `concurrency`, waits until every
/// one is acked (a 5xx is pushed again, as Pub/Sub does), then counts the effects.
pub async fn run(deliveries: usize, concurrency: usize) -> Flood {
    let services = services::Services::start().await;
    let mix = mix::Mix::new(deliveries);
    services.make_standing(&mix.standing).await;
    let fired = load::fire(&services, &mix, concurrency).await;
    // Follow-up work a handler left running (none is expected) gets a moment to show.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let checks = effects::count(&services, &mix).await;
    Flood { fired, checks }
}

//! Cloud SQL operations polled with the runtime's bounded poller; the default bounds of a
//! stop or start.

use std::time::Duration;

pub use shared::poll::Polling;

/// Every 5 s for up to 5 minutes: stopping or starting an instance takes a minute or two,
/// and giving up well inside Pub/Sub's longest ack deadline (600 s) means a redelivery,
/// which finds the instance already changed, rather than a duplicate push.
pub const STOP_POLLING: Polling = Polling {
    interval: Duration::from_secs(5),
    max_polls: 60,
};

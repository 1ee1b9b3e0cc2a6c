//! Every outside system, behind a small trait with a Google Cloud and a local implementation,
//! plus a dry-run implementation that touches nothing and records what it would have done
//! into a [`Plan`] (used by `replay --dry-run`).

pub mod databases;
pub mod object_store;
pub mod publisher;
pub mod secrets;

use std::sync::{Arc, Mutex};

/// The actions a dry run would have taken, in order. Cheap to clone; clones share the list.
#[derive(Debug, Clone, Default)]
pub struct Plan(Arc<Mutex<Vec<serde_json::Value>>>);

impl Plan {
    /// Records one action, e.g. `{"backend": "publisher", "action": "publish", "topic": "t"}`.
    /// Never record a secret value.
    pub fn record(&self, action: serde_json::Value) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(action);
    }

    /// The actions recorded so far.
    pub fn actions(&self) -> Vec<serde_json::Value> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

//! One export at a time per instance within this process.
//!
//! Cloud SQL and Memorystore run one operation per instance and refuse a second with 409;
//! waiting here for our own exports turns that refusal into a queue. Other replicas still
//! meet the 409, which is a retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// An async mutex per instance name, created on first use.
#[derive(Debug, Default)]
pub struct InstanceLocks {
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl InstanceLocks {
    /// Waits until no other export of `instance` runs in this process; the guard holds it.
    pub async fn lock(&self, instance: &str) -> OwnedMutexGuard<()> {
        let lock = {
            // A poisoned map only means a panic elsewhere while inserting; the map is fine.
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(locks.entry(instance.to_owned()).or_default())
        };
        lock.lock_owned().await
    }
}

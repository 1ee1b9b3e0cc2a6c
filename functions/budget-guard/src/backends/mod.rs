//! The resources budget-guard scales down and restores: Cloud Run services (service-level
//! scaling), Cloud SQL instances (activation policy) and environments' databases
//! (connections suspended).
//!
//! Every backend works in three moves, so the caller can journal between them: [`Backend::read`]
//! the current settings (the caller records them), [`Backend::apply`] a [`Change`] from those
//! settings, and later [`Backend::restore`] exactly the recorded settings, unless someone else
//! changed the resource meanwhile (a [`Restored::Conflict`]: nothing is overwritten).
//! Each move is safe to repeat after a crash or a redelivery.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::num::NonZeroU32;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod api;
pub mod cloud_run;
pub mod cloud_sql;
pub mod database;
pub(crate) mod erased;
mod error;
mod poll;

pub use erased::AnyBackend;
pub use error::BackendError;
pub use poll::{Polling, STOP_POLLING};

/// What a level of the ladder asks of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// At most `max_instances` (never raising a lower maximum) and no minimum; databases
    /// suspended; Cloud SQL instances left running. Non-zero: a maximum of 0 means "no
    /// limit" to Cloud Run.
    Cap {
        /// The service-level instance cap.
        max_instances: NonZeroU32,
    },
    /// Everything at its floor: Cloud Run at one instance at most, Cloud SQL stopped,
    /// databases suspended.
    Stop,
}

/// The outcome of a restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Restored<S> {
    /// The resource has its recorded settings again (now, or already before this call).
    Done,
    /// Someone changed the resource since it was scaled down; it was left as found.
    Conflict {
        /// What the resource has now.
        found: S,
    },
}

/// One kind of resource budget-guard scales. `name` is the backend's own resource name
/// (documented on each implementation).
#[async_trait]
pub trait Backend: Send + Sync {
    /// The settings a change touches, plus the labels; journaled as JSON.
    type Settings: Serialize + DeserializeOwned + Clone + PartialEq + Debug + Send + Sync;

    /// The resource's current settings.
    async fn read(&self, name: &str) -> Result<Self::Settings, BackendError>;

    /// Applies `change` to a resource whose settings are `expected` (as read and recorded)
    /// and returns the settings after it. Already applied (a redelivery) → the current
    /// settings, nothing written. Different from `expected` otherwise →
    /// [`BackendError::Changed`], nothing written.
    async fn apply(
        &self,
        name: &str,
        expected: &Self::Settings,
        change: &Change,
    ) -> Result<Self::Settings, BackendError>;

    /// Puts `previous` back if the resource still has what `apply` returned (`applied`);
    /// [`Restored::Done`] without a write if it already has `previous`.
    async fn restore(
        &self,
        name: &str,
        previous: &Self::Settings,
        applied: &Self::Settings,
    ) -> Result<Restored<Self::Settings>, BackendError>;

    /// The resource's labels, for the protection rule (empty when the resource has none).
    fn labels(&self, settings: &Self::Settings) -> BTreeMap<String, String>;

    /// What [`Backend::apply`] would make of `current`, without a call: the dry run's plan.
    fn planned(&self, current: &Self::Settings, change: &Change) -> Self::Settings;
}

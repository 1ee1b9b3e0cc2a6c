//! Removing environments: on request, and by the hourly TTL sweep.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::names::EnvName;
use crate::{types, TypedEvent};

/// `dev.groundskeeper.environment.teardown.requested.v1`: remove an environment by name.
/// Removing an unknown or already deleted environment is done, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeardownRequested {
    /// The environment to remove.
    pub name: EnvName,
    /// Why, for the record (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl TypedEvent for TeardownRequested {
    const TYPE: &'static str = types::ENVIRONMENT_TEARDOWN_REQUESTED;
}

/// `dev.groundskeeper.environment.ttl_sweep.v1`: fired hourly by Cloud Scheduler; removes
/// every environment whose `expires-at` has passed. The job's body is usually `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TtlSweep {
    /// The schedule window this run covers, when the sender states it (the CLI does for a
    /// manual re-run). Scheduler jobs have static bodies, so their runs leave it out and are
    /// told apart by the delivery id (`<job>/<schedule time>` for HTTP targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<DateTime<Utc>>,
}

impl TypedEvent for TtlSweep {
    const TYPE: &'static str = types::ENVIRONMENT_TTL_SWEEP;

    fn idempotency_key(&self) -> Option<String> {
        window_key(Self::TYPE, self.window)
    }
}

/// `<type>@<window>`: one run per stated window, however often it is delivered.
pub(crate) fn window_key(ty: &str, window: Option<DateTime<Utc>>) -> Option<String> {
    window.map(|w| format!("{ty}@{}", w.to_rfc3339_opts(SecondsFormat::Secs, true)))
}

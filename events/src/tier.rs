//! The environment tier.

use serde::{Deserialize, Serialize};

/// How important an environment is; decides defaults (TTL, connection limit) and what
/// groundskeeper may do to it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Short-lived, e.g. per pull request; expires after its TTL (default 72 h).
    Ephemeral,
    /// A developer's long-lived environment.
    Dev,
    /// Pre-production.
    Staging,
    /// Production. Valid in records and budget rules, but never requested, torn down or
    /// scaled down by groundskeeper.
    Prod,
}

impl Tier {
    /// The lowercase wire name, as used in secret ids and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ephemeral => "ephemeral",
            Self::Dev => "dev",
            Self::Staging => "staging",
            Self::Prod => "prod",
        }
    }

    /// Whether an environment of this tier may be requested (everything but `prod`).
    pub fn is_requestable(self) -> bool {
        self != Self::Prod
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ephemeral" => Ok(Self::Ephemeral),
            "dev" => Ok(Self::Dev),
            "staging" => Ok(Self::Staging),
            "prod" => Ok(Self::Prod),
            other => Err(format!(
                "unknown tier {other:?}: expected ephemeral, dev, staging or prod"
            )),
        }
    }
}

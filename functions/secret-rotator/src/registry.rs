//! Which secrets are rotated, how, and how often: read from the secret's labels, so a secret
//! is registered where it lives (Secret Manager or the local store), by whoever creates it.
//!
//! Only secrets labelled `managed-by=groundskeeper` are considered. The label `rotation`
//! says how: `alternating` (the default for `*-db-credentials`), `single-user`, `manual`
//! (an API key: people rotate it, the rotator reminds them) or `off`.
//! `rotation-period-days` overrides the policy (defaults: the tier's or platform's for
//! database credentials, `MANUAL_ROTATION_POLICY_DAYS` for manual ones).

use chrono::{DateTime, Utc};
use events::Tier;
use shared::backends::secrets::SecretInfo;

use crate::Config;

/// How a secret is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Two login roles; the new password goes on the one not in use.
    Alternating,
    /// One login role changes its own password; clients that read `current` just before the
    /// switch fail until they read it again (see the README).
    SingleUser,
    /// People rotate it; the rotator only says when it is due.
    Manual,
}

impl Mode {
    /// The name in the control tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Alternating => "alternating",
            Mode::SingleUser => "single_user",
            Mode::Manual => "manual",
        }
    }
}

/// A secret's rotation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How.
    pub mode: Mode,
    /// Rotate every this many days.
    pub days: u32,
}

/// The policy of a secret, or why it has none (not managed, `rotation=off`, bad labels).
pub fn policy(config: &Config, info: &SecretInfo) -> Result<Policy, String> {
    let label = |key: &str| info.labels.get(key).map(String::as_str);
    if label("managed-by") != Some("groundskeeper") {
        return Err(format!(
            "secret {} is not managed by groundskeeper",
            info.name
        ));
    }
    let mode = match label("rotation") {
        Some("manual") => Mode::Manual,
        Some("single-user") => Mode::SingleUser,
        Some("alternating") => Mode::Alternating,
        None if info.name.ends_with("-db-credentials") => Mode::Alternating,
        None | Some("off") => return Err(format!("secret {} is not rotated", info.name)),
        Some(other) => {
            return Err(format!(
                "secret {}: label rotation={other} is not alternating, single-user, manual or off",
                info.name
            ))
        }
    };
    let days = match label("rotation-period-days") {
        Some(days) => days.parse().ok().filter(|d| *d > 0).ok_or_else(|| {
            format!(
                "secret {}: label rotation-period-days={days} is not a number of days",
                info.name
            )
        })?,
        None if mode == Mode::Manual => config.manual_policy_days,
        None => config.policy_for(label("tier").and_then(|t| t.parse::<Tier>().ok())),
    };
    Ok(Policy { mode, days })
}

/// When the secret was last rotated: when its `current` version (else its newest enabled
/// version, for secrets people manage without aliases) was added.
pub fn last_rotated(info: &SecretInfo) -> Option<DateTime<Utc>> {
    let current = info.alias("current");
    info.versions
        .iter()
        .filter(|v| Some(v.version) == current || current.is_none())
        .filter(|v| v.state == shared::backends::secrets::VersionState::Enabled)
        .map(|v| v.created_at)
        .max()
}

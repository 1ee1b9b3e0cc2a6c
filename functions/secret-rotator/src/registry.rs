//! Which secrets are rotated, how, and how often: read from the secret's labels, so a secret
//! is registered where it lives (Secret Manager or the local store), by whoever creates it.
//!
//! Only secrets labelled `managed-by=groundskeeper` are considered. The label `rotation`
//! says how: `alternating` (the default for `*-db-credentials`), `single-user`, `manual`
//! (an API key: people rotate it, the rotator reminds them) or `off`.
//! `rotation-period-days` overrides the policy (defaults: the tier's or platform's for
//! database credentials, `MANUAL_ROTATION_POLICY_DAYS` for manual ones).

use chrono::{DateTime, TimeDelta, Utc};
use events::{labels, Tier};
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

/// The longest period a `rotation-period-days` label may ask for (10 years). Longer values
/// are a misconfiguration (and, unbounded, would overflow date arithmetic).
pub const MAX_PERIOD_DAYS: u32 = 3650;

/// A secret's rotation policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// How.
    pub mode: Mode,
    /// Rotate every this many days (1 to [`MAX_PERIOD_DAYS`]).
    pub days: u32,
    /// A label that was out of range or unknown and was replaced by the platform's default:
    /// the sweep reports it, the policy still applies.
    pub misconfigured: Option<String>,
}

impl Policy {
    /// The period as a duration (bounded, so date arithmetic on it cannot overflow in
    /// practice; callers still use checked arithmetic).
    pub fn period(&self) -> TimeDelta {
        TimeDelta::days(i64::from(self.days.clamp(1, MAX_PERIOD_DAYS)))
    }
}

/// The policy of a secret, or why it has none (not managed, `rotation=off`, a non-database
/// secret without a known `rotation` label).
///
/// Bad labels never disable rotation: an unknown `rotation` on database credentials falls
/// back to `alternating`, and an unparsable, zero or too long `rotation-period-days` falls
/// back to the default period; either way [`Policy::misconfigured`] says what was wrong.
pub fn policy(config: &Config, info: &SecretInfo) -> Result<Policy, String> {
    let label = |key: &str| info.labels.get(key).map(String::as_str);
    if !labels::is_managed(&info.labels) {
        return Err(format!(
            "secret {} is not managed by groundskeeper",
            info.name
        ));
    }
    let database = info.name.ends_with("-db-credentials");
    let mut misconfigured = None;
    let mode = match label(labels::ROTATION) {
        Some("manual") => Mode::Manual,
        Some("single-user") => Mode::SingleUser,
        Some("alternating") => Mode::Alternating,
        None if database => Mode::Alternating,
        None | Some("off") => return Err(format!("secret {} is not rotated", info.name)),
        Some(other) => {
            let why = format!(
                "label {}={other} is not alternating, single-user, manual or off",
                labels::ROTATION
            );
            if !database {
                return Err(format!("secret {}: {why}", info.name));
            }
            misconfigured = Some(format!("{why}; rotated as alternating"));
            Mode::Alternating
        }
    };
    let default = match mode {
        Mode::Manual => config.manual_policy_days,
        _ => config.policy_for(label(labels::TIER).and_then(|t| t.parse::<Tier>().ok())),
    };
    let days = match label(labels::ROTATION_PERIOD_DAYS) {
        None => default,
        Some(days) => match days.parse::<u32>() {
            Ok(d) if (1..=MAX_PERIOD_DAYS).contains(&d) => d,
            _ => {
                misconfigured = Some(format!(
                    "label {}={days} is not a number of days from 1 to {MAX_PERIOD_DAYS}; \
                     the policy of {default} days applies",
                    labels::ROTATION_PERIOD_DAYS
                ));
                default
            }
        },
    };
    Ok(Policy {
        mode,
        days,
        misconfigured,
    })
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

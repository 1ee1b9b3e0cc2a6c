//! The rotator's own settings (the runtime reads the rest), read once at start.

use std::time::Duration;

use events::Tier;
use shared::env::{ConfigError, Env};

use crate::registry::MAX_PERIOD_DAYS;

/// Every setting, with its variable in the README's table.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PASSWORD_LENGTH`: characters in generated passwords (32–256).
    pub password_length: usize,
    /// `ROTATION_POLICY_DAYS`: the platform policy for database credentials.
    pub policy_days: u32,
    /// `ROTATION_POLICY_DAYS_EPHEMERAL` / `_DEV` / `_STAGING` / `_PROD`: per-tier overrides.
    pub tier_policy_days: [Option<u32>; 4],
    /// `MANUAL_ROTATION_POLICY_DAYS`: the policy for secrets people rotate by hand.
    pub manual_policy_days: u32,
    /// `GRACE_PERIOD_SECS`: how long versions older than `previous` stay enabled.
    pub grace_period: Duration,
    /// `RETENTION_SECS`: how long disabled versions are kept (after the grace period) before
    /// they are destroyed.
    pub retention: Duration,
    /// `MIN_ROTATION_INTERVAL_MS`: the credential demoted by a rotation stays valid at least
    /// this long, so a client that read `current` just before still connects. A rotation
    /// asked for sooner is retried later.
    pub min_rotation_interval: Duration,
    /// `REQUIRE_TLS`: test logins use TLS even when the credential says `prefer` or less,
    /// and fail rather than fall back to plaintext.
    pub require_tls: bool,
    /// `PROJECT_NUMBER` and `GOOGLE_CLOUD_PROJECT`: the project whose Secret Manager
    /// notifications are ours. Notifications name the project by number; one naming neither
    /// is rejected, so a same-named secret in another project is never rotated here.
    pub projects: Vec<String>,
}

impl Config {
    /// Reads and checks the settings; the error names the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let password_length = shared::password::length_from_env(env)?;
        let days = |name: &str, default: u32| -> Result<u32, ConfigError> {
            match env.parse_or(name, default)? {
                n @ 1..=MAX_PERIOD_DAYS => Ok(n),
                _ => Err(ConfigError::new(
                    name,
                    format!("must be from 1 to {MAX_PERIOD_DAYS} days"),
                )),
            }
        };
        let tier = |suffix: &str| -> Result<Option<u32>, ConfigError> {
            let name = format!("ROTATION_POLICY_DAYS_{suffix}");
            env.optional(&name).map(|_| days(&name, 1)).transpose()
        };
        Ok(Self {
            password_length,
            policy_days: days("ROTATION_POLICY_DAYS", 30)?,
            tier_policy_days: [
                tier("EPHEMERAL")?,
                tier("DEV")?,
                tier("STAGING")?,
                tier("PROD")?,
            ],
            manual_policy_days: days("MANUAL_ROTATION_POLICY_DAYS", 90)?,
            grace_period: Duration::from_secs(env.parse_or("GRACE_PERIOD_SECS", 3600)?),
            retention: Duration::from_secs(env.parse_or("RETENTION_SECS", 7 * 24 * 3600)?),
            min_rotation_interval: Duration::from_millis(
                env.parse_or("MIN_ROTATION_INTERVAL_MS", 300_000)?,
            ),
            require_tls: env.switch("REQUIRE_TLS")?.unwrap_or(false),
            projects: ["PROJECT_NUMBER", "GOOGLE_CLOUD_PROJECT"]
                .iter()
                .filter_map(|name| env.optional(name))
                .filter(|p| !p.is_empty())
                .collect(),
        })
    }

    /// The policy of an automatically rotated secret of `tier` (when known).
    pub fn policy_for(&self, tier: Option<Tier>) -> u32 {
        let index = match tier {
            Some(Tier::Ephemeral) => 0,
            Some(Tier::Dev) => 1,
            Some(Tier::Staging) => 2,
            Some(Tier::Prod) => 3,
            None => return self.policy_days,
        };
        self.tier_policy_days[index].unwrap_or(self.policy_days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_platform_policy() {
        let cfg = Config::from_env(&Env::from_pairs([("ROTATION_POLICY_DAYS_PROD", "7")]))
            .expect("config");
        assert_eq!(cfg.policy_for(Some(Tier::Dev)), 30);
        assert_eq!(cfg.policy_for(Some(Tier::Prod)), 7);
        assert_eq!(cfg.manual_policy_days, 90);
        assert_eq!(cfg.grace_period, Duration::from_secs(3600));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("PASSWORD_LENGTH", "16"),
            ("ROTATION_POLICY_DAYS_DEV", "0"),
            ("ROTATION_POLICY_DAYS", "99999999"),
            ("REQUIRE_TLS", "maybe"),
        ] {
            let err = Config::from_env(&Env::from_pairs([(name, value)])).expect_err(name);
            assert_eq!(err.name, name);
        }
    }
}

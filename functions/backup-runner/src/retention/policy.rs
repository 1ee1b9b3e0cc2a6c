//! How long backups are kept, per tier, and where that is configured.

use chrono::Duration;
use events::Tier;
use shared::env::{ConfigError, Env};

/// One value per tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerTier<T> {
    /// Short-lived environments.
    pub ephemeral: T,
    /// Developers' environments.
    pub dev: T,
    /// Pre-production.
    pub staging: T,
    /// Production.
    pub prod: T,
}

impl<T: Copy> PerTier<T> {
    /// The value for `tier`.
    pub fn get(&self, tier: Tier) -> T {
        match tier {
            Tier::Ephemeral => self.ephemeral,
            Tier::Dev => self.dev,
            Tier::Staging => self.staging,
            Tier::Prod => self.prod,
        }
    }
}

/// Grandfather-father-son retention.
///
/// Defaults: dailies for 3 / 7 / 14 / 30 days (ephemeral / dev / staging / prod, the issue's
/// figures); 4 weeklies for every tier; monthlies 0 / 0 / 3 / 12, because an ephemeral or
/// dev database is rebuilt rather than restored from months ago, while a quarter of staging
/// and a year of production history is what audits and late-found corruption ask for; and a
/// floor of 48 h, so a backup is never deleted before verification had a night to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Every backup of the last N days (today is day 0) is kept.
    pub daily_days: PerTier<u32>,
    /// The best backup of each of the last N ISO weeks (this week included) is kept.
    pub weeklies: u32,
    /// The best backup of each of the last N calendar months (this month included) is kept.
    pub monthlies: PerTier<u32>,
    /// Nothing finished less than this long ago is deleted.
    pub floor: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            daily_days: PerTier {
                ephemeral: 3,
                dev: 7,
                staging: 14,
                prod: 30,
            },
            weeklies: 4,
            monthlies: PerTier {
                ephemeral: 0,
                dev: 0,
                staging: 3,
                prod: 12,
            },
            floor: Duration::hours(48),
        }
    }
}

impl RetentionPolicy {
    /// The defaults overridden by `RETENTION_DAYS_{EPHEMERAL,DEV,STAGING,PROD}`,
    /// `RETENTION_WEEKLIES`, `RETENTION_MONTHLIES` (every tier), then
    /// `RETENTION_MONTHLIES_{EPHEMERAL,DEV,STAGING,PROD}` (one tier), `RETENTION_FLOOR_HOURS`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let per_tier =
            |prefix: &str, defaults: PerTier<u32>| -> Result<PerTier<u32>, ConfigError> {
                Ok(PerTier {
                    ephemeral: env.parse_or(&format!("{prefix}_EPHEMERAL"), defaults.ephemeral)?,
                    dev: env.parse_or(&format!("{prefix}_DEV"), defaults.dev)?,
                    staging: env.parse_or(&format!("{prefix}_STAGING"), defaults.staging)?,
                    prod: env.parse_or(&format!("{prefix}_PROD"), defaults.prod)?,
                })
            };
        let monthlies = match env.optional("RETENTION_MONTHLIES") {
            Some(_) => {
                let all = env.parse_or("RETENTION_MONTHLIES", 0)?;
                PerTier {
                    ephemeral: all,
                    dev: all,
                    staging: all,
                    prod: all,
                }
            }
            None => d.monthlies,
        };
        let floor_hours: u32 = env.parse_or("RETENTION_FLOOR_HOURS", 48)?;
        Ok(Self {
            daily_days: per_tier("RETENTION_DAYS", d.daily_days)?,
            weeklies: env.parse_or("RETENTION_WEEKLIES", d.weeklies)?,
            monthlies: per_tier("RETENTION_MONTHLIES", monthlies)?,
            floor: Duration::hours(floor_hours.into()),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn unset_variables_give_the_documented_defaults() {
        let policy = RetentionPolicy::from_env(&Env::default()).unwrap();
        assert_eq!(policy, RetentionPolicy::default());
        assert_eq!(policy.daily_days.get(Tier::Prod), 30);
        assert_eq!(policy.daily_days.get(Tier::Dev), 7);
        assert_eq!(policy.floor, Duration::hours(48));
    }

    #[test]
    fn a_tier_s_monthlies_override_the_all_tiers_value() {
        let env = Env::from_pairs([
            ("RETENTION_MONTHLIES", "2"),
            ("RETENTION_MONTHLIES_PROD", "24"),
            ("RETENTION_DAYS_STAGING", "10"),
            ("RETENTION_FLOOR_HOURS", "12"),
        ]);
        let policy = RetentionPolicy::from_env(&env).unwrap();
        assert_eq!(
            policy.monthlies,
            PerTier {
                ephemeral: 2,
                dev: 2,
                staging: 2,
                prod: 24
            }
        );
        assert_eq!(policy.daily_days.get(Tier::Staging), 10);
        assert_eq!(policy.floor, Duration::hours(12));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for name in [
            "RETENTION_DAYS_PROD",
            "RETENTION_WEEKLIES",
            "RETENTION_MONTHLIES",
            "RETENTION_FLOOR_HOURS",
        ] {
            let err = RetentionPolicy::from_env(&Env::from_pairs([(name, "-1")])).unwrap_err();
            assert_eq!(err.name, name);
        }
    }
}

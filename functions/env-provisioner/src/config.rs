//! The provisioner's own settings (the runtime reads the rest), read once at start.

use events::{HumanDuration, Tier};
use shared::env::{ConfigError, Env};

use crate::{previews::Previews, storage::Storage};

/// Every setting, with its variable in the README's table.
#[derive(Debug, Clone)]
pub struct Config {
    /// `MAX_ENVIRONMENTS`: live environments allowed at once.
    pub max_environments: u32,
    /// `MAX_ENVIRONMENTS_PER_OWNER`.
    pub max_per_owner: u32,
    /// `MAX_TTL`: the longest TTL a request may ask for.
    pub max_ttl: HumanDuration,
    /// `PASSWORD_LENGTH`: characters in generated passwords (≥ 32).
    pub password_length: usize,
    /// `CONNECTION_LIMIT_EPHEMERAL` / `_DEV` / `_STAGING`: per-database connection limits.
    pub connection_limits: [u32; 3],
    /// `PREVIEW_MAX_INSTANCES`: the most instances a preview service scales to.
    pub preview_max_instances: u32,
    /// `PREVIEW_SERVICE_ACCOUNT`: the identity preview services run as.
    pub preview_service_account: Option<String>,
    /// `CLOUD_RUN_REGION`: deploy preview services to Cloud Run in this region; unset, they
    /// are skipped. The backend is this service's alone, built on first use.
    pub previews: Previews,
    /// `GOOGLE_CLOUD_PROJECT`: names the secret's resource in `environment.ready`.
    pub project: String,
    /// `OBJECT_STORE_URL`: shown with the prefix in `environment.ready`.
    pub object_store_url: String,
    /// `ENV_STORAGE` and bucket mode's settings: a prefix or a bucket per environment.
    pub storage: Storage,
}

/// The TTL of an ephemeral environment that asks for none.
pub const DEFAULT_EPHEMERAL_TTL_SECS: u64 = 72 * 3600;

impl Config {
    /// Reads and checks the settings; the error names the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let password_length = shared::password::length_from_env(env)?;
        let max_ttl: HumanDuration = env
            .optional("MAX_TTL")
            .unwrap_or_else(|| "720h".to_owned())
            .parse()
            .map_err(|e: String| ConfigError::new("MAX_TTL", e))?;
        let project = env
            .optional("GOOGLE_CLOUD_PROJECT")
            .unwrap_or_else(|| "local-project".to_owned());
        Ok(Self {
            max_environments: env.parse_or("MAX_ENVIRONMENTS", 50)?,
            max_per_owner: env.parse_or("MAX_ENVIRONMENTS_PER_OWNER", 5)?,
            max_ttl,
            password_length,
            connection_limits: [
                env.parse_or("CONNECTION_LIMIT_EPHEMERAL", 10)?,
                env.parse_or("CONNECTION_LIMIT_DEV", 20)?,
                env.parse_or("CONNECTION_LIMIT_STAGING", 50)?,
            ],
            preview_max_instances: env.parse_or("PREVIEW_MAX_INSTANCES", 2)?,
            preview_service_account: env.optional("PREVIEW_SERVICE_ACCOUNT"),
            previews: Previews::from_env(env, &project),
            storage: Storage::from_env(env, &project)?,
            project,
            object_store_url: env.optional("OBJECT_STORE_URL").unwrap_or_default(),
        })
    }

    /// The connection limit for a tier (`prod` never gets here).
    pub fn connection_limit(&self, tier: Tier) -> u32 {
        match tier {
            Tier::Ephemeral => self.connection_limits[0],
            Tier::Dev => self.connection_limits[1],
            Tier::Staging | Tier::Prod => self.connection_limits[2],
        }
    }

    /// The TTL a request gets: its own, else 72 h for ephemeral, else none.
    pub fn ttl_for(
        &self,
        tier: Tier,
        asked: Option<HumanDuration>,
    ) -> Result<Option<HumanDuration>, String> {
        let ttl = asked
            .or((tier == Tier::Ephemeral)
                .then(|| HumanDuration::from_secs(DEFAULT_EPHEMERAL_TTL_SECS)));
        match ttl {
            Some(ttl) if ttl > self.max_ttl => Err(format!(
                "ttl: {ttl} is longer than the maximum of {} (MAX_TTL)",
                self.max_ttl
            )),
            other => Ok(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused_by_variable_name() {
        let err = Config::from_env(&Env::from_pairs([("PASSWORD_LENGTH", "16")])).unwrap_err();
        assert_eq!(err.name, "PASSWORD_LENGTH");
    }

    #[test]
    fn ephemeral_environments_default_to_72_hours_and_the_max_bounds_every_ttl() {
        let cfg = Config::from_env(&Env::from_pairs([("MAX_TTL", "100h")])).unwrap();
        assert_eq!(
            cfg.ttl_for(Tier::Ephemeral, None)
                .unwrap()
                .map(|t| t.as_secs()),
            Some(72 * 3600)
        );
        assert_eq!(cfg.ttl_for(Tier::Dev, None).unwrap(), None);
        let err = cfg
            .ttl_for(Tier::Dev, Some("101h".parse().unwrap()))
            .unwrap_err();
        assert!(err.contains("101h") && err.contains("100h"), "{err}");
    }
}

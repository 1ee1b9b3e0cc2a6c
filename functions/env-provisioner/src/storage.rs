//! `ENV_STORAGE`: whether an environment's objects live under a prefix of the shared store
//! (`OBJECT_STORE_URL`) or in a bucket of its own, and what bucket mode needs.

use std::sync::Arc;

use events::names::EnvName;
use shared::backends::object_store::{buckets_from_url, validate_bucket_name, Buckets};
use shared::env::{ConfigError, Env};

/// Where environments' objects live.
#[derive(Debug, Clone)]
pub enum Storage {
    /// `prefix` (the default): `envs/NAME/` in the store of `OBJECT_STORE_URL`.
    Prefix,
    /// `bucket`: a bucket per environment, `{ENV_BUCKET_PREFIX}-{NAME}`.
    Bucket(BucketMode),
}

/// The settings of bucket mode.
#[derive(Debug, Clone)]
pub struct BucketMode {
    /// `ENV_BUCKET_PREFIX`: the first part of every bucket name.
    pub prefix: String,
    /// `ENV_BUCKET_LOCATION`: where Cloud Storage keeps the buckets (`EU`, `europe-west1`).
    pub location: String,
    /// The buckets next to the store of `OBJECT_STORE_URL` (same project, or same parent
    /// directory for `file://`).
    pub buckets: Arc<dyn Buckets>,
}

/// The longest prefix that leaves room for `-` and the longest environment name (30) within
/// Cloud Storage's 63 characters.
const MAX_PREFIX: usize = 63 - 1 - 30;

impl Storage {
    /// Reads `ENV_STORAGE` and, for `bucket`, `ENV_BUCKET_PREFIX` and `ENV_BUCKET_LOCATION`
    /// (required with a `gs://` store); the buckets are made in `project`.
    pub fn from_env(env: &Env, project: &str) -> Result<Self, ConfigError> {
        match env.optional("ENV_STORAGE").as_deref() {
            None | Some("prefix") => return Ok(Self::Prefix),
            Some("bucket") => {}
            Some(other) => {
                return Err(ConfigError::new(
                    "ENV_STORAGE",
                    format!("{other:?} is neither `prefix` nor `bucket`"),
                ))
            }
        }
        let url = env.optional("OBJECT_STORE_URL").ok_or_else(|| {
            ConfigError::new(
                "OBJECT_STORE_URL",
                "ENV_STORAGE=bucket makes buckets beside this store: set gs://BUCKET or file:///PATH",
            )
        })?;
        let prefix = env.required("ENV_BUCKET_PREFIX")?;
        check_prefix(&prefix).map_err(|e| ConfigError::new("ENV_BUCKET_PREFIX", e))?;
        let location = match env.optional("ENV_BUCKET_LOCATION") {
            Some(location) => location,
            None if url.starts_with("gs://") => env.required("ENV_BUCKET_LOCATION")?,
            None => "local".to_owned(),
        };
        let endpoint = env.optional("STORAGE_EMULATOR_HOST");
        let buckets = buckets_from_url(&url, endpoint.as_deref(), project)
            .map_err(|e| ConfigError::new("OBJECT_STORE_URL", e.to_string()))?;
        Ok(Self::Bucket(BucketMode {
            prefix,
            location,
            buckets,
        }))
    }
}

impl BucketMode {
    /// The bucket of environment `name`.
    pub fn bucket_name(&self, name: &EnvName) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// Refuses a name whose bucket name breaks the rules (e.g. `google` in it), before
    /// anything is created for it.
    pub fn check(&self, name: &EnvName) -> Result<(), String> {
        validate_bucket_name(&self.bucket_name(name))
            .map_err(|e| format!("name: its bucket cannot be created: {e}"))
    }
}

/// Bucket names are global: a prefix of your own (project, organisation) keeps them apart
/// from everyone else's.
fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.len() > MAX_PREFIX {
        return Err(format!(
            "`{prefix}` is longer than {MAX_PREFIX} characters (with `-` and a 30-character environment name, a bucket name has at most 63)"
        ));
    }
    validate_bucket_name(&format!("{prefix}-env"))
        .map_err(|e| format!("`{prefix}` makes invalid bucket names: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(pairs: &[(&str, &str)]) -> Result<Storage, ConfigError> {
        Storage::from_env(&Env::from_pairs(pairs.iter().copied()), "p")
    }

    #[test]
    fn prefix_is_the_default_and_bucket_mode_names_what_it_lacks() {
        assert!(matches!(storage(&[]), Ok(Storage::Prefix)));
        assert_eq!(
            storage(&[("ENV_STORAGE", "buckets")]).unwrap_err().name,
            "ENV_STORAGE"
        );
        let bucket = [("ENV_STORAGE", "bucket")];
        assert_eq!(storage(&bucket).unwrap_err().name, "OBJECT_STORE_URL");
        let gs = [
            ("ENV_STORAGE", "bucket"),
            ("OBJECT_STORE_URL", "gs://shared"),
        ];
        assert_eq!(storage(&gs).unwrap_err().name, "ENV_BUCKET_PREFIX");
        let named = [gs[0], gs[1], ("ENV_BUCKET_PREFIX", "acme-gk")];
        assert_eq!(storage(&named).unwrap_err().name, "ENV_BUCKET_LOCATION");
    }

    #[test]
    fn prefixes_that_make_bad_or_long_bucket_names_are_refused_with_the_rule() {
        for (prefix, rule) in [
            ("Acme", "lowercase"),
            ("goog-gk", "goog"),
            ("acme-google", "google"),
            ("-acme", "start and end"),
            (&"a".repeat(33) as &str, "longer than 32"),
        ] {
            let err = storage(&[
                ("ENV_STORAGE", "bucket"),
                ("OBJECT_STORE_URL", "file:///srv/gk/objects"),
                ("ENV_BUCKET_PREFIX", prefix),
            ])
            .unwrap_err();
            assert_eq!(err.name, "ENV_BUCKET_PREFIX");
            assert!(err.reason.contains(rule), "{prefix}: {err}");
        }
    }

    #[test]
    fn an_environment_name_that_makes_a_bad_bucket_name_is_refused() {
        let Storage::Bucket(mode) = storage(&[
            ("ENV_STORAGE", "bucket"),
            ("OBJECT_STORE_URL", "file:///srv/gk/objects"),
            ("ENV_BUCKET_PREFIX", "acme-gk"),
        ])
        .unwrap() else {
            panic!("bucket mode")
        };
        assert_eq!(mode.location, "local");
        let shop: EnvName = "shop".parse().unwrap();
        assert_eq!(mode.bucket_name(&shop), "acme-gk-shop");
        assert!(mode.check(&shop).is_ok());
        let err = mode.check(&"my-g00gle".parse().unwrap()).unwrap_err();
        assert!(err.contains("google"), "{err}");
    }
}

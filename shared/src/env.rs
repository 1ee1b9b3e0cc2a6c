//! Reading environment variables with errors that name the variable.
//!
//! Hand-written on purpose: clap's `env` support reports a bad value by its flag name
//! (`--port <PORT>`), while an operator on Cloud Run sets variables, so the message must name
//! the variable itself.

use std::{collections::BTreeMap, fmt::Display, str::FromStr};

/// A configuration error: which variable, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("configuration variable {name}: {reason}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// An error about variable `name`.
    pub fn new(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A snapshot of the environment, so configuration can be read from a map in tests.
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    /// An environment made of the given pairs (for tests and the local stack).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The variable's value; unset and empty are the same.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.trim().is_empty()).cloned()
    }

    /// The variable's value, which must be set.
    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or_else(|| ConfigError::new(name, "is required but not set"))
    }

    /// The variable parsed as `T`, or `default` when unset.
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e| ConfigError::new(name, format!("invalid value {raw:?}: {e}"))),
        }
    }

    /// The variable as a switch: `on`/`true`/`1` or `off`/`false`/`0`; `None` when unset.
    pub fn switch(&self, name: &str) -> Result<Option<bool>, ConfigError> {
        let Some(raw) = self.optional(name) else {
            return Ok(None);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok(Some(true)),
            "off" | "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(ConfigError::new(
                name,
                format!("invalid value {raw:?}: expected on or off"),
            )),
        }
    }

    /// The variable as a comma-separated list; empty when unset.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_number_names_the_variable_and_the_value() {
        let env = Env::from_pairs([("PORT", "eighty")]);
        let err = env.parse_or::<u16>("PORT", 8080).unwrap_err().to_string();
        assert!(err.contains("PORT") && err.contains("\"eighty\""), "{err}");
    }

    #[test]
    fn unset_and_blank_fall_back_to_the_default() {
        let env = Env::from_pairs([("PORT", "  ")]);
        assert_eq!(env.parse_or::<u16>("PORT", 8080).unwrap(), 8080);
        assert_eq!(env.parse_or::<u16>("OTHER", 1).unwrap(), 1);
    }

    #[test]
    fn switches_accept_on_off_and_refuse_anything_else() {
        let env = Env::from_pairs([("A", "on"), ("B", "False"), ("C", "maybe")]);
        assert_eq!(env.switch("A").unwrap(), Some(true));
        assert_eq!(env.switch("B").unwrap(), Some(false));
        assert_eq!(env.switch("D").unwrap(), None);
        assert!(env.switch("C").unwrap_err().to_string().contains("C"));
    }

    #[test]
    fn lists_split_on_commas_and_drop_blanks() {
        let env = Env::from_pairs([("L", "a@x, b@y,,")]);
        assert_eq!(env.list("L"), vec!["a@x", "b@y"]);
    }
}

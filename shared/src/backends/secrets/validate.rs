//! Secret Manager's naming rules, checked before a name reaches SQL or a resource name, so
//! both stores accept and refuse exactly the same input.

use super::{Labels, SecretError};
use std::collections::BTreeMap;

/// Secret Manager allows at most this many aliases per secret.
pub(crate) const MAX_ALIASES: usize = 50;
const MAX_LABELS: usize = 64;

fn invalid(secret: &str, reason: impl Into<String>) -> SecretError {
    SecretError::InvalidArgument {
        secret: secret.to_owned(),
        reason: reason.into(),
    }
}

/// A secret id: 1–255 characters of `[A-Za-z0-9_-]`.
pub fn validate_secret_name(name: &str) -> Result<(), SecretError> {
    if name.is_empty() || name.len() > 255 {
        return Err(invalid(name, "a secret name has 1 to 255 characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(invalid(
            name,
            format!("character {c:?} is not allowed; use [A-Za-z0-9_-]"),
        ));
    }
    Ok(())
}

/// A version alias: 1–63 characters of `[A-Za-z0-9_-]`, starting with a letter, and neither
/// `latest` nor `NEW` (reserved by Secret Manager).
pub fn validate_alias(secret: &str, alias: &str) -> Result<(), SecretError> {
    let starts_with_letter = alias
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic());
    let allowed = alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !starts_with_letter || !allowed || alias.len() > 63 {
        return Err(invalid(
            secret,
            format!("alias {alias:?} must be 1 to 63 characters of [A-Za-z0-9_-] starting with a letter"),
        ));
    }
    if alias == "latest" || alias == "NEW" {
        return Err(invalid(secret, format!("alias {alias:?} is reserved")));
    }
    Ok(())
}

/// Validates a whole alias map (each alias, at most 50 of them, versions ≥ 1).
pub(crate) fn validate_aliases(
    secret: &str,
    aliases: &BTreeMap<String, u64>,
) -> Result<(), SecretError> {
    if aliases.len() > MAX_ALIASES {
        return Err(invalid(
            secret,
            format!("at most {MAX_ALIASES} aliases per secret"),
        ));
    }
    for (alias, version) in aliases {
        validate_alias(secret, alias)?;
        if *version == 0 {
            return Err(invalid(
                secret,
                format!("alias {alias:?} points at version 0"),
            ));
        }
    }
    Ok(())
}

/// Labels: at most 64; keys 1–63 characters of `[a-z0-9_-]` starting with a lowercase letter;
/// values 0–63 characters of `[a-z0-9_-]`. (Secret Manager also allows non-ASCII lowercase
/// letters; we keep to ASCII so a label can be used in a list filter without quoting.)
pub fn validate_labels(secret: &str, labels: &Labels) -> Result<(), SecretError> {
    if labels.len() > MAX_LABELS {
        return Err(invalid(
            secret,
            format!("at most {MAX_LABELS} labels per secret"),
        ));
    }
    for (key, value) in labels {
        validate_label(secret, key, value)?;
    }
    Ok(())
}

pub(crate) fn validate_label(secret: &str, key: &str, value: &str) -> Result<(), SecretError> {
    let charset = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    let key_ok = key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && key.len() <= 63
        && charset(key);
    if !key_ok {
        return Err(invalid(
            secret,
            format!(
                "label key {key:?} must be 1 to 63 characters of [a-z0-9_-] starting with a letter"
            ),
        ));
    }
    if value.len() > 63 || !charset(value) {
        return Err(invalid(
            secret,
            format!("label {key:?}: value {value:?} must be up to 63 characters of [a-z0-9_-]"),
        ));
    }
    Ok(())
}

/// What [`super::SecretStore::access`] was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VersionRef {
    Latest,
    Number(u64),
    Alias(String),
}

impl VersionRef {
    pub(crate) fn parse(secret: &str, s: &str) -> Result<Self, SecretError> {
        if s == "latest" {
            return Ok(VersionRef::Latest);
        }
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            return match s.parse::<u64>() {
                Ok(n) if n > 0 => Ok(VersionRef::Number(n)),
                _ => Err(invalid(
                    secret,
                    format!("version {s:?} is not a version number"),
                )),
            };
        }
        validate_alias(secret, s)?;
        Ok(VersionRef::Alias(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_follow_secret_manager_rules() {
        assert!(validate_secret_name("dev-shop_db-credentials-2").is_ok());
        assert!(validate_secret_name(&"a".repeat(255)).is_ok());
        for bad in [
            "",
            "a;drop table x",
            "a/b",
            "naïve",
            "a b",
            &"a".repeat(256),
        ] {
            let err = validate_secret_name(bad).expect_err(bad);
            assert!(
                matches!(err, SecretError::InvalidArgument { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn aliases_start_with_a_letter_and_avoid_reserved_words() {
        assert!(validate_alias("s", "current").is_ok());
        assert!(validate_alias("s", "Pending_2").is_ok());
        for bad in ["", "1st", "latest", "NEW", "a.b", "-x", &"a".repeat(64)] {
            assert!(validate_alias("s", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn labels_are_lowercase_and_bounded() {
        let ok: Labels = [
            ("env".into(), "dev-1".into()),
            ("managed-by".into(), "".into()),
        ]
        .into();
        assert!(validate_labels("s", &ok).is_ok());
        for (k, v) in [
            ("Env", "x"),
            ("1k", "x"),
            ("k", "X"),
            ("k", "a b"),
            ("", "x"),
        ] {
            let labels: Labels = [(k.to_owned(), v.to_owned())].into();
            assert!(validate_labels("s", &labels).is_err(), "{k}={v} accepted");
        }
    }

    #[test]
    fn version_refs_parse_numbers_latest_and_aliases() {
        assert_eq!(
            VersionRef::parse("s", "latest").unwrap(),
            VersionRef::Latest
        );
        assert_eq!(
            VersionRef::parse("s", "12").unwrap(),
            VersionRef::Number(12)
        );
        assert_eq!(
            VersionRef::parse("s", "current").unwrap(),
            VersionRef::Alias("current".into())
        );
        for bad in ["0", "", "99999999999999999999999", "x;y"] {
            assert!(VersionRef::parse("s", bad).is_err(), "{bad} accepted");
        }
    }
}

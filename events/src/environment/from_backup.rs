//! `from_backup`: which backup a new environment starts from, `SOURCE_ENV` or
//! `SOURCE_ENV@RFC3339` (the newest verified backup of `SOURCE_ENV` finished at or before
//! that time).

use chrono::{DateTime, Utc};

use crate::names::EnvName;

/// The backup a new environment starts from, parsed from `from_backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSource {
    /// The environment whose backup is restored.
    pub environment: EnvName,
    /// The newest verified backup at or before this time (absent: the newest).
    pub at: Option<DateTime<Utc>>,
}

/// Parses `value` for the environment `name`; the error names the field.
pub(super) fn parse(value: &str, name: &EnvName) -> Result<BackupSource, String> {
    let (source, at) = match value.split_once('@') {
        Some((source, at)) => (source, Some(at)),
        None => (value, None),
    };
    let environment: EnvName = source
        .parse()
        .map_err(|e| format!("from_backup: expected SOURCE_ENV or SOURCE_ENV@RFC3339: {e}"))?;
    if &environment == name {
        return Err(format!(
            "from_backup: environment {name} cannot start from its own backup"
        ));
    }
    let at = at
        .map(|at| {
            DateTime::parse_from_rfc3339(at)
                .map(|at| at.with_timezone(&Utc))
                // The parser's message, not the input: a hostile value is not echoed back.
                .map_err(|e| format!("from_backup: the time after `@` is not RFC 3339 ({e}), e.g. {source}@2026-11-26T02:00:00Z"))
        })
        .transpose()?;
    Ok(BackupSource { environment, at })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is the failure report
    use super::*;

    fn parse_for(value: &str) -> Result<BackupSource, String> {
        parse(value, &"preview-1".parse().unwrap())
    }

    #[test]
    fn a_source_with_or_without_a_time() {
        let newest = parse_for("staging").unwrap();
        assert_eq!(newest.environment.as_str(), "staging");
        assert_eq!(newest.at, None);
        let at = parse_for("staging@2026-11-26T03:00:00+01:00").unwrap();
        assert_eq!(at.environment.as_str(), "staging");
        assert_eq!(at.at.unwrap().to_rfc3339(), "2026-11-26T02:00:00+00:00");
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        for bad in [
            "",
            "Staging",
            "staging;drop database x",
            "@2026-11-26T02:00:00Z",
            "staging@",
            "staging@yesterday",
            "staging@2026-11-26",
            "staging@2026-11-26T02:00:00Z@x",
            "preview-1",
            "preview-1@2026-11-26T02:00:00Z",
        ] {
            let err = parse_for(bad).unwrap_err();
            assert!(err.starts_with("from_backup: "), "{bad}: {err}");
        }
        assert!(parse_for("preview-1")
            .unwrap_err()
            .contains("its own backup"));
        assert!(parse_for("staging@yesterday")
            .unwrap_err()
            .contains("RFC 3339"));
    }
}

//! Key validation shared by every backend: relative `/`-separated paths with no `.`/`..`
//! segments, so a key means the same everywhere and cannot escape a `file://` root.

use super::StoreError;

/// Temp files of in-flight `file://` writes start with this; keys may not.
pub(crate) const TEMP_PREFIX: &str = ".gk-tmp-";

/// Checks that `key` is a safe object key.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let invalid = |reason: &str| StoreError::InvalidKey {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    if key.is_empty() {
        return Err(invalid("empty"));
    }
    if key.len() > 1024 {
        return Err(invalid("longer than 1024 bytes (the Cloud Storage limit)"));
    }
    if key.starts_with('/') {
        return Err(invalid("absolute; keys are relative to the store"));
    }
    if key.chars().any(|c| c == '\\' || c.is_control()) {
        return Err(invalid("contains a backslash or a control character"));
    }
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(invalid(
                    "has an empty path segment (`//` or a trailing `/`)",
                ))
            }
            "." | ".." => return Err(invalid("has a `.` or `..` segment")),
            s if s.starts_with(TEMP_PREFIX) => {
                return Err(invalid("uses the reserved temp-file prefix"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a list prefix: like a key, but may be empty or end with `/`.
pub(crate) fn validate_prefix(prefix: &str) -> Result<(), StoreError> {
    match prefix.strip_suffix('/').unwrap_or(prefix) {
        "" if prefix.is_empty() => Ok(()),
        trimmed => validate_key(trimmed).map_err(|_| StoreError::InvalidKey {
            key: prefix.to_owned(),
            reason: "not a valid list prefix (see the key rules)".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_paths() {
        for key in ["a", "backups/db/2024-06-01.dump", "a.b/c-d_e", "x/.hidden"] {
            validate_key(key).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
    }

    #[test]
    fn refuses_keys_that_could_escape_or_differ_between_backends() {
        for key in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\nb",
            ".gk-tmp-1",
        ] {
            assert!(validate_key(key).is_err(), "{key:?} accepted");
        }
    }

    #[test]
    fn prefixes_may_be_empty_or_end_in_a_slash() {
        for prefix in ["", "a/", "a/b", "backups/2024-"] {
            validate_prefix(prefix).unwrap_or_else(|e| panic!("{prefix}: {e}"));
        }
        for prefix in ["/", "../", "a/../", "/abs"] {
            assert!(validate_prefix(prefix).is_err(), "{prefix:?} accepted");
        }
    }
}

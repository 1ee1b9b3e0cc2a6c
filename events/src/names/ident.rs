//! PostgreSQL identifiers and Secret Manager secret ids.

use serde::{Deserialize, Serialize};

use super::rules::Rules;
use super::{validated_name, NameError};

/// PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes; ours are ASCII.
pub const DB_IDENT_MAX_LEN: usize = 63;
/// Secret Manager's secret id limit.
pub const SECRET_ID_MAX_LEN: usize = 255;

const DB_RULES: Rules = Rules {
    what: "database identifier",
    hint:
        "use 1-63 lowercase letters, digits and underscores, starting with a letter or underscore",
    max: DB_IDENT_MAX_LEN,
    uppercase: false,
    start: |c| c.is_ascii_lowercase() || c == '_',
    start_words: "a lowercase letter or an underscore",
    rest: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
    rest_words: "lowercase letters, digits and underscores",
    trailing_hyphen: true,
};

const SECRET_RULES: Rules = Rules {
    what: "secret id",
    hint: "use 1-255 letters, digits, hyphens and underscores",
    max: SECRET_ID_MAX_LEN,
    uppercase: true,
    start: |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
    start_words: "a letter, digit, hyphen or underscore",
    rest: |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
    rest_words: "letters, digits, hyphens and underscores",
    trailing_hyphen: true,
};

/// A PostgreSQL role or database name: `[a-z_][a-z0-9_]*`, at most 63 bytes. Such a name
/// never needs quoting to keep its meaning, and [`DbIdent::quoted`] is always safe.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DbIdent(String);

fn parse_db(value: &str) -> Result<(), NameError> {
    DB_RULES.check(value)
}

validated_name!(
    DbIdent,
    parse_db,
    "^[a-z_][a-z0-9_]*$",
    DB_IDENT_MAX_LEN,
    "PostgreSQL identifier: lowercase letters, digits and underscores."
);

impl DbIdent {
    /// Wraps a name derived from an already validated [`super::EnvName`].
    pub(super) fn derived(value: String) -> Self {
        debug_assert!(
            parse_db(&value).is_ok(),
            "derived identifier {value:?} is invalid"
        );
        Self(value)
    }

    /// The identifier in double quotes, for SQL that cannot take it as a bind parameter
    /// (`CREATE ROLE`, `ALTER ROLE`). Safe because the character set excludes quotes.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

/// A Secret Manager secret id (the last segment of `projects/P/secrets/ID`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecretId(String);

fn parse_secret(value: &str) -> Result<(), NameError> {
    SECRET_RULES.check(value)
}

validated_name!(
    SecretId,
    parse_secret,
    "^[A-Za-z0-9_-]+$",
    SECRET_ID_MAX_LEN,
    "Secret Manager secret id: letters, digits, hyphens and underscores."
);

impl SecretId {
    /// Wraps a secret id derived from already validated parts.
    pub(super) fn derived(value: String) -> Self {
        debug_assert!(
            parse_secret(&value).is_ok(),
            "derived secret id {value:?} is invalid"
        );
        Self(value)
    }
}

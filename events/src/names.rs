//! Names that end up in SQL or in resource names, validated once, here.
//!
//! A value of [`EnvName`], [`DbIdent`] or [`SecretId`] is valid by construction: parsing is
//! the only way to get one, and serde deserialises through the same parser
//! (`#[serde(try_from = "String")]`), so a handler never sees an unchecked name. Errors say
//! exactly what is wrong and where, because they become the dead-letter reason a person reads.

mod env;
mod ident;
mod rules;

pub use env::{EnvName, LoginSlot, ENV_NAME_MAX_LEN, PREVIEW_SERVICE_PREFIX};
pub use ident::{DbIdent, SecretId, DB_IDENT_MAX_LEN, SECRET_ID_MAX_LEN};

/// Why a name was refused. Each variant names the kind of name (`what`) and the offending
/// value (shortened and escaped, so it is safe to log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("{what} is empty: {hint}")]
    Empty {
        /// The kind of name, e.g. `environment name`.
        what: &'static str,
        /// What a valid name looks like.
        hint: &'static str,
    },
    /// The name is longer than the limit.
    #[error("{what} {value} is {len} characters long; the maximum is {max}")]
    TooLong {
        /// The kind of name.
        what: &'static str,
        /// The value, shortened for display.
        value: String,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The name contains an uppercase letter where only lowercase is allowed.
    #[error("{what} {value} has uppercase {ch:?} at position {position}: use lowercase letters")]
    Uppercase {
        /// The kind of name.
        what: &'static str,
        /// The value, shortened for display.
        value: String,
        /// The uppercase character.
        ch: char,
        /// Its 1-based position.
        position: usize,
    },
    /// The first character is not allowed to start a name.
    #[error("{what} {value} starts with {ch:?}: it must start with {expected}")]
    BadStart {
        /// The kind of name.
        what: &'static str,
        /// The value, shortened for display.
        value: String,
        /// The first character.
        ch: char,
        /// What a name may start with.
        expected: &'static str,
    },
    /// A character outside the allowed set.
    #[error("{what} {value} has {ch:?} at position {position}: only {allowed} are allowed")]
    BadChar {
        /// The kind of name.
        what: &'static str,
        /// The value, shortened for display.
        value: String,
        /// The offending character.
        ch: char,
        /// Its 1-based position.
        position: usize,
        /// The allowed characters, in words.
        allowed: &'static str,
    },
    /// The name is taken by the platform itself.
    #[error("{what} {value} is reserved: {why}")]
    Reserved {
        /// The kind of name.
        what: &'static str,
        /// The value, shortened for display.
        value: String,
        /// What it would collide with.
        why: String,
    },
    /// The name ends with a hyphen.
    #[error("{what} {value} ends with a hyphen")]
    TrailingHyphen {
        /// The kind of name.
        what: &'static str,
        /// The value, shortened for display.
        value: String,
    },
}

/// Implements the conversions every validated name type shares (parse, serde, display,
/// JSON Schema), so the types differ only in their rules.
macro_rules! validated_name {
    ($ty:ident, $parse:path, $pattern:expr, $max:expr, $desc:expr) => {
        impl $ty {
            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::names::NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $parse(s).map(|()| Self(s.to_owned()))
            }
        }
        impl TryFrom<String> for $ty {
            type Error = $crate::names::NameError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $parse(&s).map(|()| Self(s))
            }
        }
        impl From<$ty> for String {
            fn from(name: $ty) -> String {
                name.0
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "description": $desc,
                    "pattern": $pattern,
                    "minLength": 1,
                    "maxLength": $max,
                })
            }
        }
    };
}
pub(crate) use validated_name;

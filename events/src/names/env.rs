//! Environment names and every identifier derived from them.
//!
//! Limit: [`ENV_NAME_MAX_LEN`] = 30 characters, chosen so every derived name fits with room
//! to spare: PostgreSQL identifiers (63 bytes) `env_<name>_owner` ≤ 40, `env_<name>_a` ≤ 36,
//! database `env_<name>` ≤ 34; Cloud Run service `env-<name>` ≤ 34 (limit 49); secret id
//! `ephemeral-<name>-db-credentials` ≤ 55 (limit 255); label values ≤ 63; and a bucket named
//! `<prefix>-<name>` leaves 32 characters for the prefix (limit 63).

use serde::{Deserialize, Serialize};

use super::rules::Rules;
use super::{validated_name, DbIdent, NameError, SecretId};
use crate::Tier;

/// The longest environment name accepted. See the module documentation for why.
pub const ENV_NAME_MAX_LEN: usize = 30;

const RULES: Rules = Rules {
    what: "environment name",
    hint: "use 1-30 lowercase letters, digits and hyphens, starting with a letter",
    max: ENV_NAME_MAX_LEN,
    uppercase: false,
    start: |c| c.is_ascii_lowercase(),
    start_words: "a lowercase letter",
    rest: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    rest_words: "lowercase letters, digits and hyphens",
    trailing_hyphen: false,
};

/// An environment's name: DNS-label-like (`[a-z][a-z0-9-]*`, no trailing hyphen), at most
/// [`ENV_NAME_MAX_LEN`] characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnvName(String);

fn parse(value: &str) -> Result<(), NameError> {
    RULES.check(value)?;
    // A preview is the Cloud Run service `env-<name>`, beside the platform's own services:
    // a name whose preview would be named like one of them (`provisioner` → `env-provisioner`)
    // could adopt or delete the platform itself.
    let preview = preview_service_name(value);
    if let Some(service) = crate::platform::PLATFORM_SERVICES
        .iter()
        .find(|s| **s == preview)
    {
        return Err(NameError::Reserved {
            what: RULES.what,
            value: format!("{value:?}"),
            why: format!("its preview service would be named {service}, a groundskeeper service"),
        });
    }
    Ok(())
}

fn preview_service_name(name: &str) -> String {
    format!("{PREVIEW_SERVICE_PREFIX}{name}")
}

/// What every preview service's name starts with.
pub const PREVIEW_SERVICE_PREFIX: &str = "env-";

validated_name!(
    EnvName,
    parse,
    "^[a-z]([a-z0-9-]*[a-z0-9])?$",
    ENV_NAME_MAX_LEN,
    "Environment name: lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen."
);

/// Which of an environment's two login roles (rotation alternates between them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoginSlot {
    /// The `…_a` role, the one provisioning gives a password.
    A,
    /// The `…_b` role.
    B,
}

impl LoginSlot {
    /// The other slot: where the next rotation sets its password.
    pub fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::A => "a",
            Self::B => "b",
        }
    }
}

impl EnvName {
    /// The name with hyphens as underscores, so identifiers need no quoting to be readable.
    fn stem(&self) -> String {
        self.0.replace('-', "_")
    }

    /// The environment's database, `env_<name>`. The `env_` prefix keeps every derived role
    /// clear of PostgreSQL's reserved `pg_` prefix and of roles the platform did not create.
    pub fn database(&self) -> DbIdent {
        DbIdent::derived(format!("env_{}", self.stem()))
    }

    /// The NOLOGIN role that owns the database and its objects, `env_<name>_owner`.
    pub fn owner_role(&self) -> DbIdent {
        DbIdent::derived(format!("env_{}_owner", self.stem()))
    }

    /// One of the two LOGIN roles, `env_<name>_a` or `env_<name>_b`.
    pub fn login_role(&self, slot: LoginSlot) -> DbIdent {
        DbIdent::derived(format!("env_{}_{}", self.stem(), slot.suffix()))
    }

    /// The credentials secret's id by the platform convention `{tier}-{name}-db-credentials`.
    pub fn secret_id(&self, tier: Tier) -> SecretId {
        SecretId::derived(format!("{}-{}-db-credentials", tier.as_str(), self.0))
    }

    /// The Cloud Run preview service's name, `env-<name>`.
    pub fn service_name(&self) -> String {
        preview_service_name(&self.0)
    }

    /// The object-store prefix, `envs/<name>/`.
    pub fn object_prefix(&self) -> String {
        format!("envs/{}/", self.0)
    }
}

//! The object layout: `backups/{environment}/{database}/{yyyy}/{mm}/{dd}/{backup_id}.dump`
//! and `….manifest.json` beside it.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use events::names::{DbIdent, EnvName, NameError};
use serde::{Deserialize, Serialize};

/// The longest backup id accepted (a window id is 16 characters; room for a suffix).
const BACKUP_ID_MAX_LEN: usize = 64;

/// Why a location was refused, before any key or path was built from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The environment or database name is not a valid name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The backup id is not `[a-z0-9][a-z0-9-]*`, at most 64 characters.
    #[error("backup id {0:?} is invalid: use 1 to 64 lowercase letters, digits and hyphens, starting with a letter or digit")]
    BackupId(String),
}

/// A backup's identifier, safe as a file name and an object name segment.
///
/// Derived from the window ([`BackupId::for_window`]) so a redelivered or re-published
/// window maps to the same key, which the create-only write then refuses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BackupId(String);

impl BackupId {
    /// The id of the backup of the window starting at `window`: `20261127t030000z`.
    pub fn for_window(window: DateTime<Utc>) -> Self {
        Self(window.format("%Y%m%dt%H%M%Sz").to_string())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for BackupId {
    type Error = LayoutError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let mut chars = value.chars();
        let valid_start = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let valid_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid_start && valid_rest && value.len() <= BACKUP_ID_MAX_LEN && !value.ends_with('-') {
            Ok(Self(value))
        } else {
            Err(LayoutError::BackupId(value.escape_debug().to_string()))
        }
    }
}

impl From<BackupId> for String {
    fn from(id: BackupId) -> String {
        id.0
    }
}

/// Where one backup of one database lives. Only validated names get in, so the keys can
/// neither escape the `backups/` prefix nor collide across environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupLocation {
    /// The environment the database belongs to.
    pub environment: EnvName,
    /// The database.
    pub database: DbIdent,
    /// The day the backup belongs to (the window's date, UTC).
    pub date: NaiveDate,
    /// The backup's id.
    pub backup_id: BackupId,
}

impl BackupLocation {
    /// Validates every part, then holds them; no key is built from a refused part.
    pub fn parse(
        environment: &str,
        database: &str,
        date: NaiveDate,
        backup_id: &str,
    ) -> Result<Self, LayoutError> {
        Ok(Self {
            environment: environment.parse()?,
            database: database.parse()?,
            date,
            backup_id: BackupId::try_from(backup_id.to_owned())?,
        })
    }

    /// The location of the backup of `window` (its date and its id).
    pub fn for_window(environment: EnvName, database: DbIdent, window: DateTime<Utc>) -> Self {
        Self {
            environment,
            database,
            date: window.date_naive(),
            backup_id: BackupId::for_window(window),
        }
    }

    /// `backups/{environment}/{database}/{yyyy}/{mm}/{dd}/{backup_id}`, without extension.
    fn stem(&self) -> String {
        format!(
            "backups/{}/{}/{:04}/{:02}/{:02}/{}",
            self.environment.as_str(),
            self.database.as_str(),
            self.date.year(),
            self.date.month(),
            self.date.day(),
            self.backup_id.as_str()
        )
    }

    /// The dump object's key.
    pub fn dump_key(&self) -> String {
        format!("{}.dump", self.stem())
    }

    /// The manifest's key, beside the dump.
    pub fn manifest_key(&self) -> String {
        format!("{}.manifest.json", self.stem())
    }

    /// The pending record's key: what the dump in progress will be (see [`crate::pending`]).
    pub fn pending_key(&self) -> String {
        format!("{}.pending.json", self.stem())
    }

    /// The verification record's key, beside the manifest (written once the dump restored).
    pub fn verification_key(&self) -> String {
        format!("{}.verification.json", self.stem())
    }
}

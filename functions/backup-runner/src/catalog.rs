//! The catalog: every backup in the store that has a manifest we wrote, and, apart, every
//! object that has none.
//!
//! Only a manifest whose own fields give back the exact key it was read from is catalogued:
//! a manifest copied, moved or forged under another key is listed as foreign, and nothing
//! uncatalogued is ever a deletion candidate.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use events::names::{DbIdent, EnvName};
use serde::Deserialize;
use shared::backends::object_store::{ObjectMeta, ObjectStore, StoreError};

use crate::manifest::Manifest;
use crate::store::BackupLocation;

const MANIFEST: &str = ".manifest.json";

/// Which part of the store to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every environment.
    All,
    /// One environment's databases.
    Environment(EnvName),
    /// One database of one environment.
    Database(EnvName, DbIdent),
}

impl Scope {
    /// The key prefix; each ends in `/` so `dev` never matches `dev2`.
    fn prefix(&self) -> String {
        match self {
            Self::All => "backups/".to_owned(),
            Self::Environment(env) => format!("backups/{env}/"),
            Self::Database(env, db) => format!("backups/{env}/{db}/"),
        }
    }
}

/// One catalogued backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Where it lives (its keys derive from this).
    pub location: BackupLocation,
    /// Its manifest.
    pub manifest: Manifest,
    /// The dump object's listed size; `None` when the dump is gone (a deletion cut short).
    pub dump_size: Option<u64>,
    /// The verification record's `passed`; `None` when not verified (yet) or unreadable.
    pub verified: Option<bool>,
}

impl CatalogEntry {
    /// Whether the dump is there with the manifest's size, so a restore can start from it.
    pub fn is_complete(&self) -> bool {
        self.dump_size == Some(self.manifest.size)
    }

    /// Whether it can be restored and a restore of it passed verification.
    pub fn is_verified(&self) -> bool {
        self.is_complete() && self.verified == Some(true)
    }
}

/// An object that could not be read as what its name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The object's key.
    pub key: String,
    /// Why it could not be used.
    pub reason: String,
}

/// What [`list_backups`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The catalogued backups, by key.
    pub backups: Vec<CatalogEntry>,
    /// Objects that belong to no catalogued backup (no manifest, or one that is unreadable
    /// or foreign), other than those manifests themselves.
    pub unmanaged: Vec<String>,
    /// Manifests and verification records that could not be parsed.
    pub unreadable: Vec<Unreadable>,
    /// Manifests whose fields describe another key than the one they were read from.
    pub foreign: Vec<String>,
}

/// The only field of a verification record retention and freshness need.
#[derive(Deserialize)]
struct VerificationOutcome {
    passed: bool,
}

/// Lists the backups in `scope`: reads every manifest, checks it describes its own key, and
/// reads the verification record beside it.
pub async fn list_backups(store: &dyn ObjectStore, scope: Scope) -> Result<Catalog, StoreError> {
    let objects = store.list(&scope.prefix()).await?;
    let mut catalog = Catalog::default();
    let mut claimed = BTreeSet::new();
    for manifest_key in objects
        .iter()
        .map(|o| &o.key)
        .filter(|k| k.ends_with(MANIFEST))
    {
        let Some(bytes) = store.get(manifest_key).await? else {
            continue; // deleted since the listing: by another replica's retention
        };
        let manifest = match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(manifest) => manifest,
            Err(e) => {
                let reason = format!("not a manifest: {e}");
                catalog.unreadable.push(Unreadable {
                    key: manifest_key.clone(),
                    reason,
                });
                continue;
            }
        };
        let Some(location) = own_location(manifest_key, &manifest) else {
            catalog.foreign.push(manifest_key.clone());
            continue;
        };
        let verified = verification(store, &objects, &location, &mut catalog).await?;
        let dump_size = size_of(&objects, &location.dump_key());
        claimed.extend([
            location.dump_key(),
            location.manifest_key(),
            location.verification_key(),
        ]);
        catalog.backups.push(CatalogEntry {
            location,
            manifest,
            dump_size,
            verified,
        });
    }
    let reported: BTreeSet<&String> = catalog
        .foreign
        .iter()
        .chain(catalog.unreadable.iter().map(|u| &u.key))
        .collect();
    catalog.unmanaged = objects
        .iter()
        .map(|o| &o.key)
        .filter(|k| !claimed.contains(*k) && !reported.contains(k))
        .cloned()
        .collect();
    Ok(catalog)
}

/// The location the manifest's fields describe, if it gives back exactly `key` and the dump
/// key the manifest names; the date comes from the key and is checked through the dump key.
fn own_location(key: &str, manifest: &Manifest) -> Option<BackupLocation> {
    let segments: Vec<&str> = key.split('/').collect();
    let [_, _, _, yyyy, mm, dd, _] = segments.as_slice() else {
        return None;
    };
    let date = NaiveDate::from_ymd_opt(yyyy.parse().ok()?, mm.parse().ok()?, dd.parse().ok()?)?;
    let location = BackupLocation {
        environment: manifest.environment.clone(),
        database: manifest.database.clone(),
        date,
        backup_id: manifest.backup_id.clone(),
    };
    (location.manifest_key() == key && location.dump_key() == manifest.object).then_some(location)
}

/// The verification record's outcome; an unreadable record counts as not verified.
async fn verification(
    store: &dyn ObjectStore,
    objects: &[ObjectMeta],
    location: &BackupLocation,
    catalog: &mut Catalog,
) -> Result<Option<bool>, StoreError> {
    let key = location.verification_key();
    if size_of(objects, &key).is_none() {
        return Ok(None);
    }
    let Some(bytes) = store.get(&key).await? else {
        return Ok(None);
    };
    match serde_json::from_slice::<VerificationOutcome>(&bytes) {
        Ok(outcome) => Ok(Some(outcome.passed)),
        Err(e) => {
            let reason = format!("not a verification record: {e}");
            catalog.unreadable.push(Unreadable { key, reason });
            Ok(None)
        }
    }
}

/// The listed size of `key`; the listing is sorted by key.
fn size_of(objects: &[ObjectMeta], key: &str) -> Option<u64> {
    objects
        .binary_search_by(|o| o.key.as_str().cmp(key))
        .ok()
        .map(|i| objects[i].size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_end_in_a_slash_so_a_name_never_matches_a_longer_one() {
        let env: EnvName = "dev".parse().unwrap();
        let db: DbIdent = "app".parse().unwrap();
        assert_eq!(Scope::All.prefix(), "backups/");
        assert_eq!(Scope::Environment(env.clone()).prefix(), "backups/dev/");
        assert_eq!(Scope::Database(env, db).prefix(), "backups/dev/app/");
    }
}

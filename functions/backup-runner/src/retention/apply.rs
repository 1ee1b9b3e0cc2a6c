//! Carrying out a plan: per backup the dump, then the verification record, then the manifest.
//!
//! The manifest goes last so that a crash or a refusal halfway leaves it in place: the next
//! run catalogues the backup again and finishes the deletion, while retention never deletes
//! an object that has no manifest.

use shared::backends::object_store::{ObjectStore, StoreError};

use super::RetentionPlan;
use crate::store::BackupLocation;

/// A backup the store refused to delete (all or part of); it stays, with its manifest.
#[derive(Debug)]
pub struct Refused {
    /// The backup.
    pub location: BackupLocation,
    /// The object whose deletion was refused.
    pub key: String,
    /// What the store said.
    pub error: StoreError,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kept: the store refused deleting `{}` (a bucket retention policy or Bucket Lock \
             refuses until the object is old enough; the next run retries): {}",
            self.key, self.error
        )
    }
}

/// What [`apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Backups deleted entirely (dump, verification record and manifest).
    pub deleted: Vec<BackupLocation>,
    /// Backups the store refused to delete; the run went on with the others.
    pub refused: Vec<Refused>,
}

/// Why the run stopped: not a backend's refusal (that is per backup) but a key or store
/// configuration error, which every further deletion would hit as well.
#[derive(Debug, thiserror::Error)]
#[error("retention stopped: {0}")]
pub struct RetentionError(#[from] pub StoreError);

/// Deletes every backup in `plan.delete`: dump, verification record, manifest, in that
/// order; a backend error on one backup is recorded in [`Applied::refused`] and the rest go
/// on. Deleting what is already gone succeeds, so a second replica or a rerun is harmless.
pub async fn apply(
    store: &dyn ObjectStore,
    plan: &RetentionPlan,
) -> Result<Applied, RetentionError> {
    let mut applied = Applied::default();
    for delete in &plan.delete {
        let location = &delete.location;
        let keys = [
            location.dump_key(),
            location.verification_key(),
            location.manifest_key(),
        ];
        match delete_in_order(store, &keys).await {
            Ok(()) => applied.deleted.push(location.clone()),
            Err((key, error @ StoreError::Backend { .. })) => {
                applied.refused.push(Refused {
                    location: location.clone(),
                    key,
                    error,
                });
            }
            Err((_, error)) => return Err(error.into()),
        }
    }
    Ok(applied)
}

/// Deletes `keys` in order, stopping at the first failure (and naming its key).
async fn delete_in_order(
    store: &dyn ObjectStore,
    keys: &[String],
) -> Result<(), (String, StoreError)> {
    for key in keys {
        store.delete(key).await.map_err(|e| (key.clone(), e))?;
    }
    Ok(())
}

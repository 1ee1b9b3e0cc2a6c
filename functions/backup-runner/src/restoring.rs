//! `backup.restore.requested`: the newest verified backup at or before a time, restored into
//! a new database (or into a provisioned environment's empty database, owned by its owner
//! role), counted against its manifest.

use chrono::Utc;
use events::backup::{BackupFailed, BackupRestored, RestoreRequested};
use events::Tier;
use shared::{Ctx, Outcome};

use crate::catalog::{list_backups, CatalogEntry, Scope};
use crate::config::Config;
use crate::error::{BackupError, BackupStep};
use crate::publish;
use crate::restore_target::{prepare, Prepared};
use crate::verify::{restore_archive, row_counts, Expected};
use crate::verifying::admin_target;

/// Restores what `request` asks for, once: a database already restored from the chosen
/// backup is recognised by its marker and left as it is.
pub async fn restore(
    ctx: &Ctx,
    config: &Config,
    request: &RestoreRequested,
    event_id: &str,
) -> Result<Outcome, BackupError> {
    let source_db = request
        .database
        .clone()
        .unwrap_or_else(|| request.environment.database());
    let store = ctx.object_store()?.as_ref();
    let scope = Scope::Database(request.environment.clone(), source_db.clone());
    let catalog = list_backups(store, scope)
        .await
        .map_err(|e| transient(&e))?;
    let at = request.at.unwrap_or_else(Utc::now);
    let Some(chosen) = newest_verified(&catalog.backups, at) else {
        return Err(BackupError::Rejected(format!(
            "no verified backup of {}/{} finished at or before {at}",
            request.environment.as_str(),
            source_db.as_str()
        )));
    };
    // Production data stays in production: it is restored only into a new, standalone
    // database (a person's recovery work), never into another environment.
    if chosen.manifest.tier == Tier::Prod && request.into_environment.is_some() {
        return Err(BackupError::Rejected(format!(
            "{} is a prod backup: it is never restored into an environment; restore it into a new database",
            chosen.location.dump_key()
        )));
    }
    let admin = admin_target(config)?;
    let dump_key = chosen.location.dump_key();
    let into = match prepare(ctx, &admin, request, &dump_key).await? {
        Prepared::AlreadyRestored => {
            return Ok(Outcome::Ignored(format!(
                "{} was restored from {dump_key} already",
                request.into.as_str()
            )))
        }
        Prepared::Ready(target) => target,
    };
    let archive = store
        .get_stream(&dump_key)
        .await
        .map_err(|e| transient(&e))?
        .ok_or_else(|| BackupError::Rejected(format!("{dump_key} is gone")))?;
    let expected = Expected::from_manifest(&chosen.manifest);
    let restored = restore_archive(archive, &into, config.pg_restore.as_deref(), &expected).await;
    let outcome = match restored {
        Ok(_) => compare_counts(&into, &chosen.manifest.row_counts).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(reason) = outcome {
        crate::restore_target::discard(&admin, request).await;
        return Err(publish::failed(
            ctx,
            event_id,
            BackupFailed {
                environment: request.environment.clone(),
                database: Some(source_db),
                backup_id: Some(chosen.location.backup_id.as_str().to_owned()),
                step: BackupStep::Restore.as_str().to_owned(),
                reason,
            },
        )
        .await);
    }
    crate::restore_target::mark(&admin, &request.into, &dump_key)
        .await
        .map_err(|e| transient(&e))?;
    let restored = BackupRestored {
        environment: request.environment.clone(),
        backup_id: chosen.location.backup_id.as_str().to_owned(),
        into: request.into.clone(),
        tables: chosen.manifest.row_counts.len() as u64,
    };
    publish::event(ctx, format!("{event_id}/restored"), &restored).await?;
    Ok(Outcome::Done)
}

/// The newest complete, verified backup finished at or before `at`.
fn newest_verified(backups: &[CatalogEntry], at: chrono::DateTime<Utc>) -> Option<&CatalogEntry> {
    backups
        .iter()
        .filter(|entry| entry.is_verified() && entry.manifest.finished_at <= at)
        .max_by_key(|entry| entry.manifest.finished_at)
}

/// Every table of the restored database has its manifest's exact row count.
async fn compare_counts(
    into: &crate::dump::Target,
    expected: &std::collections::BTreeMap<String, i64>,
) -> Result<(), String> {
    let found = row_counts(into).await.map_err(|e| e.to_string())?;
    if &found == expected {
        return Ok(());
    }
    let differing: Vec<String> = expected
        .keys()
        .chain(found.keys())
        .filter(|table| expected.get(*table) != found.get(*table))
        .map(|table| {
            format!(
                "{table}: expected {:?}, found {:?}",
                expected.get(table),
                found.get(table)
            )
        })
        .collect();
    Err(format!(
        "restored counts differ from the manifest: {}",
        differing.join("; ")
    ))
}

fn transient(e: &dyn std::fmt::Display) -> BackupError {
    BackupError::Transient {
        subject: "restore".into(),
        step: BackupStep::Restore,
        reason: e.to_string(),
    }
}

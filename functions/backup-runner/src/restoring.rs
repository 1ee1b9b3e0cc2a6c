//! `backup.restore.requested`: the newest verified backup at or before a time, restored into
//! a new database (or into a provisioned environment's empty database, owned by its owner
//! role), counted against its manifest.

use chrono::Utc;
use events::backup::{BackupFailed, BackupRestored, RestoreRequested};
use events::Tier;
use shared::{crash_point, Ctx, Outcome};

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
    let restored = BackupRestored {
        environment: request.environment.clone(),
        backup_id: chosen.location.backup_id.as_str().to_owned(),
        into: request.into.clone(),
        tables: chosen.manifest.row_counts.len() as u64,
    };
    // The restore's id, not the request's: every announcement of it is the same event.
    let restored_id = format!("{dump_key}/restored-into/{}", request.into.as_str());
    let (into, committed) = match prepare(ctx, &admin, request, &dump_key).await? {
        Prepared::AlreadyRestored => {
            // A crash may have come between the mark and the announcement.
            publish::event(ctx, restored_id, &restored).await?;
            return Ok(Outcome::Ignored(format!(
                "{} was restored from {dump_key} already",
                request.into.as_str()
            )));
        }
        Prepared::Ready(target) => (target, false),
        Prepared::Committed(target) => (target, true),
    };
    let counts = &chosen.manifest.row_counts;
    let outcome = if committed {
        compare_counts(&into, counts).await
    } else {
        let expected = Expected::from_manifest(&chosen.manifest);
        restore_and_count(store, &dump_key, &into, config, &expected, counts).await?
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
    crash_point::at(request.into.as_str(), BackupStep::Restore, "after")?;
    crate::restore_target::mark(&admin, &request.into, &dump_key)
        .await
        .map_err(|e| transient(&e))?;
    crash_point::at(request.into.as_str(), BackupStep::Restore, "marked")?;
    publish::event(ctx, restored_id, &restored).await?;
    Ok(Outcome::Done)
}

/// Streams the dump into `into` and compares its counts: `Err` of the outer result to retry
/// the delivery, of the inner one for a restore that failed for good.
async fn restore_and_count(
    store: &dyn shared::backends::object_store::ObjectStore,
    dump_key: &str,
    into: &crate::dump::Target,
    config: &Config,
    expected: &Expected,
    counts: &std::collections::BTreeMap<String, i64>,
) -> Result<Result<(), String>, BackupError> {
    let archive = store
        .get_stream(dump_key)
        .await
        .map_err(|e| transient(&e))?
        .ok_or_else(|| BackupError::Rejected(format!("{dump_key} is gone")))?;
    Ok(
        match restore_archive(archive, into, config.pg_restore.as_deref(), expected).await {
            Ok(_) => compare_counts(into, counts).await,
            Err(e) => Err(e.to_string()),
        },
    )
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

//! The window's sweep: the dead-man's switch, then retention. Both read the catalog of the
//! manifests this runner wrote, never a listing of bare objects.

use chrono::{DateTime, Utc};
use events::backup::{BackupFailed, BackupOverdue};
use events::names::{DbIdent, EnvName};
use shared::Ctx;

use crate::catalog::{list_backups, Scope};
use crate::config::Config;
use crate::error::{BackupError, BackupStep};
use crate::freshness::overdue;
use crate::publish;
use crate::retention::{apply, plan};

/// Publishes `backup.overdue` for every expected database without a fresh verified backup,
/// then deletes what the retention policy no longer keeps. In a dry run the store records
/// the deletions instead.
pub async fn sweep(
    ctx: &Ctx,
    config: &Config,
    expected: &[(EnvName, DbIdent)],
    now: DateTime<Utc>,
    event_id: &str,
) -> Result<(), BackupError> {
    let store = ctx.object_store()?.as_ref();
    let catalog = list_backups(store, Scope::All)
        .await
        .map_err(|e| transient(&e))?;
    let rpo_hours = config.rpo.num_hours().unsigned_abs();
    for late in overdue(&catalog, expected, config.rpo, now) {
        tracing::warn!(
            environment = late.environment.as_str(),
            database = late.database.as_str(),
            newest_verified = ?late.newest_verified,
            "backup overdue"
        );
        let id = format!(
            "{event_id}/overdue/{}/{}",
            late.environment.as_str(),
            late.database.as_str()
        );
        let event = BackupOverdue {
            environment: late.environment,
            database: late.database,
            newest_verified: late.newest_verified,
            rpo_hours,
        };
        publish::event(ctx, id, &event).await?;
    }
    let plan = plan(&catalog.backups, &config.retention, now);
    let applied = apply(store, &plan).await.map_err(|e| transient(&e))?;
    tracing::info!(
        kept = plan.keep.len(),
        deleted = applied.deleted.len(),
        refused = applied.refused.len(),
        "retention applied"
    );
    for refused in applied.refused {
        let failed = BackupFailed {
            environment: refused.location.environment.clone(),
            database: Some(refused.location.database.clone()),
            backup_id: Some(refused.location.backup_id.as_str().to_owned()),
            step: BackupStep::Retention.as_str().to_owned(),
            reason: refused.to_string(),
        };
        let id = format!("{event_id}/retention/{}", refused.key);
        publish::event(ctx, id, &failed).await?;
    }
    Ok(())
}

fn transient(e: &dyn std::fmt::Display) -> BackupError {
    BackupError::Transient {
        subject: "the backup catalog".into(),
        step: BackupStep::Retention,
        reason: e.to_string(),
    }
}

//! The tour's backup step: rows in the environment's database, a backup on demand, its
//! verification, `backup list`, then a new environment seeded from that backup
//! (`from_backup`) whose row counts, read with its own credentials, must equal the source's.

use std::collections::BTreeMap;

use events::backup::BackupRequested;
use events::backup::{BackupCompleted, BackupFailed, BackupRestored, BackupVerified};
use events::environment::EnvironmentReady;
use events::names::EnvName;
use events::TypedEvent;
use sqlx::{Connection as _, PgConnection};

use super::connect::login;
use super::steps::{field, secret_id, ty, Tour, TABLE, WAIT};
use super::watch::Pulled;
use crate::operator::backup::{catalogued, list_table};
use crate::operator::publish::send_typed;

/// Rows added before the backup, so the restore has something to count.
const ROWS: i64 = 5;

impl Tour {
    /// Backs the environment's database up, lists it, requests a new environment seeded
    /// from that backup and compares every table's row count through the new environment's
    /// own credentials; the seeded environment is torn down afterwards.
    pub async fn backup(&self, ready: &EnvironmentReady) -> anyhow::Result<()> {
        let mut source = login(self.secrets.as_ref(), secret_id(ready)).await?;
        let insert =
            format!("INSERT INTO {TABLE} (at) SELECT now() FROM generate_series(1, {ROWS})");
        sqlx::query(&insert).execute(&mut source).await?;
        let before = row_counts(&mut source).await?;
        source.close().await?;
        self.at
            .say("✓", format!("added {ROWS} rows to {TABLE}: {before:?}"));

        let request = BackupRequested {
            environment: Some(self.name.clone()),
            database: None,
            window: None,
            reason: Some("local demo".into()),
        };
        let id = send_typed(&self.publisher, &request).await?;
        self.at
            .say("→", format!("backup now {}  (message {id})", self.name));
        let done = self.backup_event(BackupCompleted::TYPE).await?;
        self.at.say(
            "←",
            format!(
                "backup.completed: {} ({} bytes, sha256 {}…)",
                field(&done, "backup_id"),
                serde_json::from_slice::<BackupCompleted>(&done.data)?.size_bytes,
                &field(&done, "sha256")[..12]
            ),
        );
        let verified: BackupVerified =
            serde_json::from_slice(&self.backup_event(BackupVerified::TYPE).await?.data)?;
        self.at.say(
            "←",
            format!(
                "backup.verified: {} restored into a scratch database, {} tables counted",
                verified.backup_id, verified.tables_checked
            ),
        );
        let rows = catalogued(self.objects.as_ref(), self.name.clone(), None).await?;
        self.at.say("✓", format!("backup list {}:", self.name));
        for line in list_table(&rows).lines() {
            println!("           {line}");
        }

        // A new environment seeded from that backup (env-provisioner's `from_backup`). Its
        // `environment.ready` and the restore's `backup.restored` race (the restore is asked
        // for before the environment is announced); the watch keeps whichever comes first.
        let copy: EnvName = format!("{}-copy", self.name.as_str())
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let seeded = self
            .request_env(&copy, Some(self.name.as_str().to_owned()))
            .await?;
        let restored = self.restored(&copy).await?;
        self.at.say(
            "←",
            format!(
                "backup.restored: {} into {}, {} tables",
                restored.backup_id,
                restored.into.as_str(),
                restored.tables
            ),
        );
        let mut conn = login(self.secrets.as_ref(), secret_id(&seeded)).await?;
        let after = row_counts(&mut conn).await;
        conn.close().await?;
        let after = after?;
        let mark = if after == before { "✓" } else { "✗" };
        self.at.say(
            mark,
            format!(
                "row counts through {copy}'s own credentials: source {before:?}, restored {after:?}"
            ),
        );
        self.teardown_env(&copy, &seeded).await?;
        anyhow::ensure!(
            after == before,
            "the restored environment's row counts differ"
        );
        Ok(())
    }

    /// The restore into `copy`'s database (`backup.restored` names the source environment
    /// and the database filled), or the source's failed restore as an error.
    async fn restored(&self, copy: &EnvName) -> anyhow::Result<BackupRestored> {
        let (source, into) = (self.name.as_str(), copy.database());
        let event = self
            .events
            .next(WAIT, |m| match ty(m) {
                t if t == BackupRestored::TYPE => field(m, "into") == into.as_str(),
                t if t == BackupFailed::TYPE => {
                    field(m, "environment") == source && field(m, "step") == "restore"
                }
                _ => false,
            })
            .await?;
        if ty(&event) == BackupFailed::TYPE {
            anyhow::bail!("backup.failed at restore: {}", field(&event, "reason"));
        }
        Ok(serde_json::from_slice(&event.data)?)
    }

    /// The `wanted` event of this environment, or the step's `backup.failed` as an error.
    async fn backup_event(&self, wanted: &str) -> anyhow::Result<Pulled> {
        let name = self.name.as_str();
        let outcome = [wanted, BackupFailed::TYPE];
        let event = self
            .events
            .next(WAIT, |m| {
                outcome.contains(&ty(m)) && field(m, "environment") == name
            })
            .await?;
        if ty(&event) == BackupFailed::TYPE {
            anyhow::bail!(
                "backup.failed at {}: {}",
                field(&event, "step"),
                field(&event, "reason")
            );
        }
        Ok(event)
    }
}

/// Exact rows per user table (`schema.table`).
async fn row_counts(conn: &mut PgConnection) -> anyhow::Result<BTreeMap<String, i64>> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT schemaname || '.' || tablename, format('SELECT count(*) FROM %I.%I', schemaname, tablename) \
         FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = BTreeMap::new();
    for (table, count) in tables {
        let n: i64 = sqlx::query_scalar(&count).fetch_one(&mut *conn).await?;
        counts.insert(table, n);
    }
    Ok(counts)
}

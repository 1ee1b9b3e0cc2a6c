//! `backup list`: the catalog of one environment as a table or JSON.

use std::fmt::Write as _;

use backup_runner::catalog::{list_backups, Catalog, CatalogEntry, Scope};
use chrono::{DateTime, SecondsFormat, Utc};
use events::names::{DbIdent, EnvName};
use serde::Serialize;
use shared::backends::object_store::ObjectStore;

use crate::output::{self, Output};

/// One row of `backup list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// The backup's id.
    pub id: String,
    /// The database it is of.
    pub database: String,
    /// When the dump was complete.
    pub finished_at: DateTime<Utc>,
    /// The dump's size in bytes (the manifest's).
    pub size_bytes: u64,
    /// `yes` (restored and matched its manifest, dump present), `no` (verification failed,
    /// or the dump is gone) or `pending` (not verified yet).
    pub verified: &'static str,
    /// The dump object's key.
    pub object: String,
}

impl From<&CatalogEntry> for Listed {
    fn from(e: &CatalogEntry) -> Self {
        let verified = match e.verified {
            _ if e.is_verified() => "yes",
            None if e.is_complete() => "pending",
            _ => "no",
        };
        Self {
            id: e.location.backup_id.as_str().to_owned(),
            database: e.location.database.as_str().to_owned(),
            finished_at: e.manifest.finished_at,
            size_bytes: e.manifest.size,
            verified,
            object: e.location.dump_key(),
        }
    }
}

/// Prints the backups of `environment` (of `database` only, when given), oldest first.
pub async fn list(
    store: &dyn ObjectStore,
    environment: EnvName,
    database: Option<DbIdent>,
    out: Output,
) -> anyhow::Result<()> {
    let rows = catalogued(store, environment, database).await?;
    output::print(out, &rows, |rows| list_table(rows))
}

/// The rows of `backup list`, oldest first; strays are reported on stderr.
pub async fn catalogued(
    store: &dyn ObjectStore,
    environment: EnvName,
    database: Option<DbIdent>,
) -> anyhow::Result<Vec<Listed>> {
    let scope = match database {
        Some(db) => Scope::Database(environment, db),
        None => Scope::Environment(environment),
    };
    let catalog = list_backups(store, scope).await?;
    warn_about_strays(&catalog);
    let mut rows: Vec<Listed> = catalog.backups.iter().map(Listed::from).collect();
    rows.sort_by(|a, b| (a.finished_at, &a.object).cmp(&(b.finished_at, &b.object)));
    Ok(rows)
}

/// Objects that look like backups but are not catalogued are reported, never listed: a
/// manifest copied under another key must not pass for a backup.
pub(super) fn warn_about_strays(catalog: &Catalog) {
    for key in &catalog.foreign {
        eprintln!("groundskeeper: ignoring {key}: its manifest describes another key");
    }
    for u in &catalog.unreadable {
        eprintln!("groundskeeper: ignoring {}: {}", u.key, u.reason);
    }
}

/// The table people read.
pub fn list_table(rows: &[Listed]) -> String {
    let mut out = format!(
        "{:<22} {:<20} {:>9} {:<8} {}\n",
        "ID", "FINISHED (UTC)", "SIZE", "VERIFIED", "OBJECT"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<22} {:<20} {:>9} {:<8} {}",
            r.id,
            r.finished_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            human_size(r.size_bytes),
            r.verified,
            r.object
        );
    }
    out
}

/// `512 B`, `1.5 KiB`, `3.2 GiB`: binary units, one decimal.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision lost in the cast is far below the one decimal shown.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_use_binary_units_with_one_decimal() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}

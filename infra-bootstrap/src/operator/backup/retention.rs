//! `backup retention --dry-run`: backup-runner's own retention plan over the catalog, printed;
//! nothing is deleted.

use std::fmt::Write as _;

use anyhow::Context as _;
use backup_runner::catalog::{list_backups, Scope};
use backup_runner::retention::{plan, RetentionPlan, RetentionPolicy};
use events::names::EnvName;
use serde::Serialize;
use shared::backends::object_store::ObjectStore;
use shared::env::Env;

use crate::output::{self, Output};

/// One backup in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// `delete` or `keep`.
    pub action: &'static str,
    /// The dump object's key (its manifest and verification record go with it).
    pub object: String,
    /// Why: the reasons it is kept, or why it is not.
    pub reasons: Vec<String>,
}

/// Prints what retention would delete and keep now, for `environment` or every one. A
/// plan groups by (environment, database), so one environment's plan is its part of the
/// whole store's.
pub async fn dry_run(
    store: &dyn ObjectStore,
    environment: Option<EnvName>,
    env: &Env,
    out: Output,
) -> anyhow::Result<()> {
    let policy = RetentionPolicy::from_env(env).context("the retention policy")?;
    let scope = environment.map_or(Scope::All, Scope::Environment);
    let catalog = list_backups(store, scope).await?;
    super::list::warn_about_strays(&catalog);
    let rows = planned(&plan(&catalog.backups, &policy, chrono::Utc::now()));
    if !catalog.unmanaged.is_empty() && out == Output::Table {
        eprintln!(
            "groundskeeper: {} object(s) without a manifest of ours are never deleted by retention",
            catalog.unmanaged.len()
        );
    }
    output::print(out, &rows, |rows| retention_table(rows))
}

/// Deletions first, then what is kept, each by key.
fn planned(plan: &RetentionPlan) -> Vec<Planned> {
    let delete = plan.delete.iter().map(|d| Planned {
        action: "delete",
        object: d.location.dump_key(),
        reasons: vec![d.reason.clone()],
    });
    let keep = plan.keep.iter().map(|k| Planned {
        action: "keep",
        object: k.location.dump_key(),
        reasons: k.reasons.iter().map(ToString::to_string).collect(),
    });
    delete.chain(keep).collect()
}

/// The table people read, with a dry-run banner so it is never taken for a report of
/// deletions done.
pub fn retention_table(rows: &[Planned]) -> String {
    let deletes = rows.iter().filter(|r| r.action == "delete").count();
    let mut out = format!(
        "dry run: retention would delete {deletes} backup(s) and keep {}; nothing was deleted\n",
        rows.len() - deletes
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<6} {}  ({})",
            r.action,
            r.object,
            r.reasons.join(", ")
        );
    }
    out
}

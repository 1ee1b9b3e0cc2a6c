//! The seam between the plan and the cloud: one small trait per resource kind, implemented
//! on the official clients (and on fakes in unit tests).

use async_trait::async_trait;

use crate::plan::{Action, Change, Spec};

/// Reads and changes the live resources of one kind.
#[async_trait]
pub trait Store<S: Spec>: Send + Sync {
    /// Every live resource of this kind in the project (managed or not).
    async fn list(&self) -> anyhow::Result<Vec<S>>;
    /// Creates `spec`.
    async fn create(&self, spec: &S) -> anyhow::Result<()>;
    /// Brings the live resource to `spec`; `fields` are the ones that differ.
    async fn update(&self, spec: &S, fields: &[&'static str]) -> anyhow::Result<()>;
    /// Deletes the resource with this short id.
    async fn delete(&self, name: &str) -> anyhow::Result<()>;
}

/// Carries out the changes of one kind, in order. Deletions are left to `deletes` so the
/// caller can order them across kinds (subscriptions before their topics).
pub async fn apply_upserts<S: Spec>(
    store: &dyn Store<S>,
    desired: &[S],
    changes: &[Change],
) -> anyhow::Result<()> {
    for change in changes.iter().filter(|c| c.kind == S::KIND) {
        let spec = || {
            desired
                .iter()
                .find(|d| d.name() == change.name)
                .ok_or_else(|| {
                    anyhow::anyhow!("{} {} is not in the manifest", S::KIND, change.name)
                })
        };
        match &change.action {
            Action::Create => {
                progress(format_args!("creating {} {}", S::KIND, change.name));
                store.create(spec()?).await?;
            }
            Action::Update { diffs } => {
                progress(format_args!("updating {} {}", S::KIND, change.name));
                let fields: Vec<&'static str> = diffs.iter().map(|d| d.field).collect();
                store.update(spec()?, &fields).await?;
            }
            // Only reached when the caller allowed it (see `converge::check`).
            Action::Recreate { .. } => {
                progress(format_args!("re-creating {} {}", S::KIND, change.name));
                store.delete(&change.name).await?;
                store.create(spec()?).await?;
            }
            Action::Unchanged | Action::Delete | Action::Refused { .. } => {}
        }
    }
    Ok(())
}

/// Carries out the deletions of one kind.
pub async fn apply_deletes<S: Spec>(
    store: &dyn Store<S>,
    changes: &[Change],
) -> anyhow::Result<()> {
    for change in changes
        .iter()
        .filter(|c| c.kind == S::KIND && c.action == Action::Delete)
    {
        progress(format_args!("deleting {} {}", S::KIND, change.name));
        store.delete(&change.name).await?;
    }
    Ok(())
}

/// One progress line on stderr: every remote call takes a moment, and stdout is for the
/// table or the JSON.
pub fn progress(what: std::fmt::Arguments<'_>) {
    eprintln!("  … {what}");
}

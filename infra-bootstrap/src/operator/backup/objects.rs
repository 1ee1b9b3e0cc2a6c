//! Which object store `backup list` / `backup retention` read: `--objects`, else
//! `OBJECT_STORE_URL`, else the running local stack's. A URL is never printed: a malformed one
//! is reported by where it came from, not by its text.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use shared::backends::object_store::{from_url, ObjectStore, StoreError};
use shared::env::Env;

use crate::operator::stack::{self, StackState};

/// `--objects URL`.
#[derive(Debug, Clone, clap::Args)]
pub struct ObjectsArg {
    /// The object store backups are in: `gs://bucket[/prefix]` or `file:///path` (default:
    /// OBJECT_STORE_URL, else the local stack's). STORAGE_EMULATOR_HOST points `gs://` at an
    /// emulator.
    #[arg(long = "objects", value_name = "URL")]
    url: Option<String>,
}

impl ObjectsArg {
    /// Opens the store (contacts nothing yet).
    pub async fn open(&self, env: &Env, cwd: &Path) -> anyhow::Result<Arc<dyn ObjectStore>> {
        let (url, origin) = match (&self.url, env.optional("OBJECT_STORE_URL")) {
            (Some(url), _) => (url.clone(), "--objects"),
            (None, Some(url)) => (url, "OBJECT_STORE_URL"),
            (None, None) => (local_stack(env, cwd)?, "the local stack's state file"),
        };
        open_store(&url, env.optional("STORAGE_EMULATOR_HOST").as_deref())
            .await
            .with_context(|| format!("the object store of {origin}"))
    }
}

/// The store at `url`; errors name what is wrong with it without repeating it.
pub async fn open_store(
    url: &str,
    gcs_endpoint: Option<&str>,
) -> anyhow::Result<Arc<dyn ObjectStore>> {
    from_url(url, gcs_endpoint).await.map_err(|e| match e {
        StoreError::BadUrl { reason, .. } => anyhow::anyhow!("unusable URL: {reason}"),
        other => anyhow::anyhow!("{other}"),
    })
}

/// The running stack's object store URL, found as `Target::discover` finds the stack.
fn local_stack(env: &Env, cwd: &Path) -> anyhow::Result<String> {
    let none =
        "no object store: give --objects URL or set OBJECT_STORE_URL (or start the local stack)";
    let state_dir = env.optional("GROUNDSKEEPER_STATE_DIR");
    let file = stack::locate(state_dir.as_deref().map(Path::new), cwd).context(none)?;
    StackState::read(&file)?
        .and_then(|state| state.object_store_url)
        .context(none)
}

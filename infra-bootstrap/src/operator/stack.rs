//! The local stack's state file, through which the CLI finds a running stack by itself.
//!
//! `groundskeeper local up` writes it once every component answers and `local down` removes
//! it. It lives at `$GROUNDSKEEPER_STATE_DIR/stack.json` when that variable is set, else at
//! `.state/local/stack.json` in the current directory or the nearest parent that has one (the
//! repository root, when the CLI runs anywhere inside the checkout). JSON, version 1:
//!
//! ```json
//! {
//!   "version": 1,
//!   "project": "groundskeeper-local",
//!   "pubsub_emulator_host": "127.0.0.1:8085",
//!   "database_url": "postgres://postgres@127.0.0.1:5432/groundskeeper",
//!   "postgres_admin_url": "postgres://postgres@127.0.0.1:5432/postgres",
//!   "object_store_url": "file:///home/me/groundskeeper/.state/local/objects",
//!   "services": {
//!     "env-provisioner": { "url": "http://127.0.0.1:8081/", "pid": 4242, "log": ".state/local/logs/env-provisioner.log" }
//!   },
//!   "processes": { "pubsub-emulator": 4200, "postgres": 4201, "scheduler": 4243 },
//!   "started_at": "2025-01-01T12:00:00Z",
//!   "events_subscription": "groundskeeper-events-watch",
//!   "manifest": "/home/me/groundskeeper/.state/local/manifest.toml"
//! }
//! ```
//!
//! `version`, `project`, `pubsub_emulator_host` and `database_url` (the control database)
//! are required; everything else is for `local status` / `logs` / `down`. Every process id
//! is also the id of the process group it leads (PostgreSQL's postmaster leads its own
//! session), which `local down` stops as a whole. Unknown fields are
//! ignored, so a newer stack may add some. The local cluster trusts loopback connections, so
//! the URLs carry no password.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "stack.json";

/// The state directory relative to the repository root.
pub const STATE_DIR: &str = ".state/local";

/// The only format version this CLI reads.
pub const VERSION: u32 = 1;

/// What a running local stack tells its clients. No `Debug`: a URL could hold a password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackState {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// The project id used on the emulator and in secret resource names.
    pub project: String,
    /// The Pub/Sub emulator, `HOST:PORT`.
    pub pubsub_emulator_host: String,
    /// The control database (state, idempotency ledger, local secrets).
    pub database_url: String,
    /// The cluster's superuser URL (the server environments are created on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres_admin_url: Option<String>,
    /// Where the services keep objects (`file://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_store_url: Option<String>,
    /// Each service by name: its push URL, process id and log file.
    #[serde(default)]
    pub services: BTreeMap<String, StackService>,
    /// Other processes of the stack by name (emulator, postgres, scheduler) → process id.
    #[serde(default)]
    pub processes: BTreeMap<String, u32>,
    /// When the stack came up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// A pull subscription on the events topic, for watching follow-up events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_subscription: Option<String>,
    /// The manifest applied to the emulator (the local one, with this stack's ports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<PathBuf>,
}

/// One service of the local stack.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackService {
    /// The URL Pub/Sub pushes to.
    pub url: String,
    /// Its process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Its log file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
}

/// Where the state file is (or would be): `$GROUNDSKEEPER_STATE_DIR/stack.json`, else the
/// nearest `.state/local/stack.json` from `cwd` upwards. `None`: no stack file anywhere.
pub fn locate(state_dir: Option<&Path>, cwd: &Path) -> Option<PathBuf> {
    if let Some(dir) = state_dir {
        return Some(dir.join(STATE_FILE));
    }
    cwd.ancestors()
        .map(|dir| dir.join(STATE_DIR).join(STATE_FILE))
        .find(|file| file.is_file())
}

impl StackState {
    /// Reads the file; `Ok(None)` when it does not exist.
    pub fn read(path: &Path) -> anyhow::Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        };
        let state: Self = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a stack state file: {e}", path.display()))?;
        anyhow::ensure!(
            state.version == VERSION,
            "{} has format version {}; this CLI reads version {VERSION}",
            path.display(),
            state.version
        );
        Ok(Some(state))
    }

    /// Writes the file atomically (a reader never sees half of it).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_state_file_upwards_is_found_and_the_variable_wins() {
        let root = tempfile::tempdir().expect("temp dir");
        let deep = root.path().join("functions/env-provisioner/src");
        std::fs::create_dir_all(&deep).expect("dirs");
        assert_eq!(locate(None, &deep), None);
        std::fs::create_dir_all(root.path().join(STATE_DIR)).expect("state dir");
        let file = root.path().join(STATE_DIR).join(STATE_FILE);
        std::fs::write(&file, "{}").expect("write");
        assert_eq!(locate(None, &deep), Some(file));
        let elsewhere = Path::new("/somewhere/else");
        assert_eq!(
            locate(Some(elsewhere), &deep),
            Some(elsewhere.join(STATE_FILE))
        );
    }

    #[test]
    fn a_written_state_reads_back_and_another_version_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(STATE_FILE);
        assert!(StackState::read(&path).expect("absent is fine").is_none());
        let text = r#"{"version": 1, "project": "p", "pubsub_emulator_host": "127.0.0.1:8085",
                       "database_url": "postgres://postgres@127.0.0.1:5432/gk", "future": true}"#;
        std::fs::write(&path, text).expect("write");
        let state = StackState::read(&path).expect("read").expect("present");
        assert_eq!(state.pubsub_emulator_host, "127.0.0.1:8085");
        state.write(&path).expect("write back");
        assert!(StackState::read(&path).expect("read").expect("present") == state);
        std::fs::write(&path, text.replace("\"version\": 1", "\"version\": 2")).expect("write");
        let err = StackState::read(&path).err().expect("version 2 is refused");
        assert!(err.to_string().contains("version 2"), "{err}");
    }
}

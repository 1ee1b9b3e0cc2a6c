//! Backups written into a `file://` store the way backup-runner writes them (dump, manifest,
//! verification record under its layout), for the CLI's `backup` tests, and the CLI run
//! against it with nothing of the caller's environment.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::collections::BTreeMap;
use std::process::Output;

use backup_runner::manifest::{Manifest, MANIFEST_FORMAT};
use backup_runner::store::BackupLocation;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use events::Tier;
use shared::backends::object_store::{FileStore, ObjectStore};

/// A `file://` store in a temp directory.
pub struct Objects {
    pub dir: tempfile::TempDir,
    pub store: FileStore,
}

impl Objects {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path()).await.unwrap();
        Self { dir, store }
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    /// A backup of `env`/`db` finished at `finished`, `size` bytes, with a verification
    /// record of `verified` (none when `None`). Returns its dump key.
    pub async fn put(
        &self,
        env: &str,
        db: &str,
        tier: Tier,
        finished: DateTime<Utc>,
        size: usize,
        verified: Option<bool>,
    ) -> String {
        let started = finished - Duration::minutes(5);
        let location =
            BackupLocation::for_window(env.parse().unwrap(), db.parse().unwrap(), started);
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            backup_id: location.backup_id.clone(),
            environment: location.environment.clone(),
            database: location.database.clone(),
            tier,
            window_id: started.to_rfc3339(),
            started_at: started,
            finished_at: finished,
            object: location.dump_key(),
            sha256: "0".repeat(64),
            crc32c: 0,
            size: size as u64,
            pg_dump_version: "pg_dump (PostgreSQL) 15.8".into(),
            server_version: 150_008,
            row_counts: BTreeMap::from([("public.t".to_owned(), 3)]),
        };
        let put = |key: String, bytes: Vec<u8>| async move {
            self.store
                .put(&key, Bytes::from(bytes), "application/octet-stream")
                .await
                .unwrap();
        };
        put(location.dump_key(), vec![7; size]).await;
        put(
            location.manifest_key(),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .await;
        if let Some(passed) = verified {
            let record = serde_json::json!({ "passed": passed });
            put(location.verification_key(), record.to_string().into_bytes()).await;
        }
        location.dump_key()
    }

    /// Every object's key and size.
    pub async fn snapshot(&self) -> Vec<(String, u64)> {
        let objects = self.store.list("").await.unwrap();
        objects.into_iter().map(|o| (o.key, o.size)).collect()
    }
}

/// Runs `groundskeeper ARGS` with only `env` set (and a state directory without a stack, so
/// no local stack of the machine's is found).
pub async fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let state = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_groundskeeper"))
        .args(args)
        .env_clear()
        .env("GROUNDSKEEPER_STATE_DIR", state.path())
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

//! The child process: one backup (or one raw upload) and nothing else, so that its peak RSS
//! is the runner's alone. It prints one JSON line on stdout for the parent.

use std::path::Path;
use std::sync::Arc;

use backup_runner::backup::BackupJob;
use backup_runner::dump::{Snapshot, Target};
use backup_runner::store::BackupLocation;
use chrono::{TimeDelta, TimeZone, Utc};
use events::Tier;
use nix::sys::resource::{getrusage, UsageWho};
use shared::backends::object_store::{self, ObjectStore};

/// Where the child writes: a store URL and, for `gs://`, the emulator's endpoint.
pub struct Destination {
    pub url: String,
    pub endpoint: Option<String>,
}

impl Destination {
    /// As command-line arguments (`-` for no endpoint).
    pub fn args(&self) -> [String; 2] {
        let endpoint = self.endpoint.clone().unwrap_or_else(|| "-".into());
        [self.url.clone(), endpoint]
    }

    fn from_args(url: &str, endpoint: &str) -> Self {
        let endpoint = (endpoint != "-").then(|| endpoint.to_owned());
        Self {
            url: url.to_owned(),
            endpoint,
        }
    }

    async fn open(&self) -> Arc<dyn ObjectStore> {
        object_store::from_url(&self.url, self.endpoint.as_deref())
            .await
            .unwrap_or_else(|e| panic!("store {}: {e}", self.url))
    }
}

/// `--worker backup|snapshot|dump URL ENDPOINT PORT DATABASE` or `--worker upload URL ENDPOINT FILE`.
pub fn main(args: &[String]) {
    let [mode, url, endpoint, rest @ ..] = args else {
        panic!("usage: --worker backup|upload URL ENDPOINT …");
    };
    let destination = Destination::from_args(url, endpoint);
    // The runtime a service gets from #[tokio::main]: one worker thread per core.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let size = match (mode.as_str(), rest) {
        ("backup", [port, database]) => runtime.block_on(backup(&destination, port, database)),
        ("snapshot", [port, database]) => runtime.block_on(snapshot(port, database)),
        ("dump", [port, database]) => runtime.block_on(dump(port, database)),
        ("upload", [file]) => runtime.block_on(upload(&destination, Path::new(file))),
        _ => panic!("unknown worker arguments {args:?}"),
    };
    drop(runtime);
    let own = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage self");
    let children = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage children");
    println!(
        "{}",
        serde_json::json!({
            "size": size,
            "peak_rss_kib": own.max_rss(),
            "pg_dump_peak_rss_kib": children.max_rss(),
        })
    );
}

fn target(port: &str, database: &str) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port: port.parse().expect("port"),
        user: "postgres".into(),
        password: None,
        database: database.into(),
        session_role: None,
    }
}

/// The first step of a backup alone: the exported snapshot and its exact row counts. It
/// writes no archive, so its size is 0.
async fn snapshot(port: &str, database: &str) -> u64 {
    Snapshot::take(&target(port, database))
        .await
        .unwrap_or_else(|e| panic!("snapshot failed: {e}"));
    0
}

/// The dump core without a store: snapshot, row counts, pg_dump read and hashed through a
/// pipe into a sink. Against plain pg_dump it prices the pipe and the hashing; against a
/// backup, the store and the pending record and manifest.
async fn dump(port: &str, database: &str) -> u64 {
    backup_runner::dump::dump_database(&target(port, database), None, &mut tokio::io::sink())
        .await
        .unwrap_or_else(|e| panic!("dump failed: {e}"))
        .size
}

async fn backup(destination: &Destination, port: &str, database: &str) -> u64 {
    let store = destination.open().await;
    let target = target(port, database);
    let window = Utc
        .with_ymd_and_hms(2026, 11, 27, 3, 0, 0)
        .single()
        .expect("a valid window");
    let job = BackupJob {
        store: store.as_ref(),
        location: BackupLocation::for_window(
            "bench".parse().expect("environment name"),
            database.parse().expect("database name"),
            window,
        ),
        target: &target,
        pg_dump: None,
        tier: Tier::Dev,
        window_id: "bench".into(),
        deadline: Utc::now() + TimeDelta::hours(6),
    };
    let stored = job
        .run()
        .await
        .unwrap_or_else(|e| panic!("backup failed: {e}"));
    assert!(
        matches!(stored, backup_runner::backup::Stored::New(_)),
        "the store was not empty: {stored:?}"
    );
    stored.manifest().size
}

/// The same bytes as a backup, uploaded from a file: what the store costs without the runner.
async fn upload(destination: &Destination, file: &Path) -> u64 {
    let store = destination.open().await;
    let reader = tokio::fs::File::open(file).await.expect("open the dump");
    store
        .put_stream_if_absent(
            "raw/upload.dump",
            Box::new(reader),
            "application/octet-stream",
        )
        .await
        .unwrap_or_else(|e| panic!("raw upload failed: {e}"))
}

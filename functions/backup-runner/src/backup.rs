//! One backup end to end: the dump streamed create-only to its object, then its manifest.
//!
//! The order makes every crash recoverable by running the same backup again:
//! 1. the manifest exists → the backup is done (a redelivery stops here);
//! 2. the dump exists without a manifest → a crash came between the two: checksum the
//!    stored dump and write the manifest from the pending record;
//! 3. otherwise → take the snapshot, stream the dump while counting rows in the same
//!    snapshot, write the pending record before the upload may complete, write the
//!    manifest, drop the pending record.

use std::path::Path;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use events::Tier;
use shared::backends::object_store::{ObjectStore, StoreError};
use shared::crash_point::{self, Injected};

use crate::dump::{discover_pg_dumps, select_pg_dump, DumpError, DumpReport, Snapshot, Target};
use crate::error::BackupStep;
use crate::manifest::Manifest;
use crate::pending::PendingBackup;
use crate::store::{gated_pipe, BackupLocation};

const DUMP_CONTENT_TYPE: &str = "application/vnd.postgresql.custom-archive";
const JSON: &str = "application/json";

/// Why a backup failed, by step (`backup.failed`'s `step`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The dump itself failed; nothing is under the dump's key.
    #[error("{0}")]
    Dump(#[from] DumpError),
    /// Writing or reading the dump object failed.
    #[error("{0}")]
    Upload(#[source] StoreError),
    /// Writing the manifest (or reading the pending record) failed.
    #[error("{0}")]
    Manifest(#[source] StoreError),
    /// The dump outlived its completion window: pg_dump was killed and the upload
    /// abandoned, so nothing is under the dump's key.
    #[error("the dump was still running when the completion window closed at {0}; it was cancelled and nothing was stored")]
    WindowClosed(DateTime<Utc>),
    /// The stored objects contradict each other (e.g. a dump without a pending record).
    #[error("{0}")]
    Inconsistent(String),
    /// A test's crash point (`fault.rs`); without the `fault-injection` feature there is
    /// none.
    #[error("crash point {0:?}")]
    Crashed(Injected),
}

impl From<Injected> for JobError {
    fn from(crash: Injected) -> Self {
        Self::Crashed(crash)
    }
}

impl JobError {
    /// The step that failed, as `backup.failed` names it.
    pub fn step(&self) -> &'static str {
        match self {
            Self::Dump(_) => "dump",
            Self::Upload(_) => "upload",
            Self::Manifest(_) | Self::Inconsistent(_) | Self::Crashed(_) => "manifest",
            Self::WindowClosed(_) => "window",
        }
    }
}

/// How the backup ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// This run wrote it (or finished the manifest of a dump an earlier run wrote).
    New(Manifest),
    /// It was there already: a redelivery or a re-published window.
    Existing(Manifest),
}

impl Stored {
    /// The manifest, either way.
    pub fn manifest(&self) -> &Manifest {
        match self {
            Self::New(m) | Self::Existing(m) => m,
        }
    }
}

/// One backup of one database.
pub struct BackupJob<'a> {
    /// Where objects go.
    pub store: &'a dyn ObjectStore,
    /// Its keys.
    pub location: BackupLocation,
    /// The database and how to reach it.
    pub target: &'a Target,
    /// A configured `pg_dump` (else the newest installed one that fits the server).
    pub pg_dump: Option<&'a Path>,
    /// The environment's tier.
    pub tier: Tier,
    /// The window it belongs to.
    pub window_id: String,
    /// When a dump still running is cancelled (the completion window).
    pub deadline: DateTime<Utc>,
}

impl BackupJob<'_> {
    /// Runs the backup, or finishes or recognises an earlier run of it.
    pub async fn run(&self) -> Result<Stored, JobError> {
        let manifest_key = self.location.manifest_key();
        if let Some(bytes) = self
            .store
            .get(&manifest_key)
            .await
            .map_err(JobError::Manifest)?
        {
            return Ok(Stored::Existing(parse_manifest(&manifest_key, &bytes)?));
        }
        let dump_key = self.location.dump_key();
        let report = if self.exists(&dump_key).await? {
            self.report_of_stored_dump(&dump_key).await?
        } else {
            let report = self.dump(&dump_key).await?;
            let environment = self.location.environment.as_str();
            crash_point::at(environment, BackupStep::Upload, "after")?;
            report
        };
        let started_at = report.1;
        let manifest = Manifest::new(
            &self.location,
            self.tier,
            &self.window_id,
            started_at,
            Utc::now(),
            &report.0,
        );
        let body: shared::backends::object_store::ByteReader =
            Box::new(std::io::Cursor::new(manifest.to_json()));
        match self
            .store
            .put_stream_if_absent(&manifest_key, body, JSON)
            .await
        {
            // A concurrent run wrote the same manifest first: the same dump, described.
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(JobError::Manifest(e)),
        }
        // Leftover pending records are harmless; failing to delete one fails nothing.
        let _ = self.store.delete(&self.location.pending_key()).await;
        Ok(Stored::New(manifest))
    }

    async fn exists(&self, key: &str) -> Result<bool, JobError> {
        let head = self.store.head(key).await.map_err(JobError::Upload)?;
        Ok(head.is_some())
    }

    /// Takes the snapshot and streams the dump into the store while counting the rows in
    /// the same snapshot. The upload may complete only once the pending record (the counts)
    /// is stored, so a stored dump always has what its manifest needs.
    async fn dump(&self, dump_key: &str) -> Result<(DumpReport, DateTime<Utc>), JobError> {
        let started_at = Utc::now();
        // Finding pg_dump needs no database: it runs while the snapshot is taken.
        let (snapshot, installed) =
            tokio::join!(Snapshot::open(self.target), discover_pg_dumps(self.pg_dump));
        let snapshot = snapshot?;
        let pg_dump = select_pg_dump(&installed, snapshot.server_version_num())?;

        let (mut side, reader) = gated_pipe();
        let deadline = self.deadline;
        let dump = async move {
            let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
            let dumping = snapshot.dump_counting(&pg_dump, self.target, &mut side.writer);
            let report = match tokio::time::timeout(wait, dumping).await {
                Ok(Ok(report)) => report,
                Ok(Err(e)) => return Err(JobError::Dump(e)),
                // Dropping the dump kills pg_dump; dropping `side` fails the upload.
                Err(_) => return Err(JobError::WindowClosed(deadline)),
            };
            let pending = PendingBackup {
                started_at,
                pg_dump_version: report.pg_dump_version.clone(),
                server_version: report.server_version,
                row_counts: report.row_counts.clone(),
            };
            self.store
                .put(
                    &self.location.pending_key(),
                    Bytes::from(pending.to_json()),
                    JSON,
                )
                .await
                .map_err(JobError::Manifest)?;
            side.succeeded();
            Ok(report)
        };
        let upload = self
            .store
            .put_stream_if_absent(dump_key, Box::new(reader), DUMP_CONTENT_TYPE);
        match tokio::join!(dump, upload) {
            // The store gave up first (a full disk, a refused write): all the dump saw was
            // its pipe closing, so the store's error is the cause.
            (Err(JobError::Dump(DumpError::Sink(_))), Err(upload)) => Err(JobError::Upload(upload)),
            // Otherwise the dump's own error explains an abandoned upload better.
            (dumped, uploaded) => {
                let report = dumped?;
                uploaded.map_err(JobError::Upload)?;
                Ok((report, started_at))
            }
        }
    }

    /// The report of a dump an earlier run stored before it could write the manifest.
    async fn report_of_stored_dump(
        &self,
        dump_key: &str,
    ) -> Result<(DumpReport, DateTime<Utc>), JobError> {
        let pending_key = self.location.pending_key();
        let Some(bytes) = self
            .store
            .get(&pending_key)
            .await
            .map_err(JobError::Manifest)?
        else {
            return Err(JobError::Inconsistent(format!(
                "{dump_key} exists without a manifest or a pending record; it was not written by this runner's current version and is left alone"
            )));
        };
        let pending: PendingBackup = serde_json::from_slice(&bytes).map_err(|e| {
            JobError::Inconsistent(format!("{pending_key}: unreadable pending record: {e}"))
        })?;
        let Some(dump) = self.store.get(dump_key).await.map_err(JobError::Upload)? else {
            return Err(JobError::Inconsistent(format!(
                "{dump_key} vanished while being read"
            )));
        };
        let summary = crate::dump::checksum(&mut dump.as_ref(), &mut tokio::io::sink())
            .await
            .map_err(|e| JobError::Inconsistent(format!("{dump_key}: {e}")))?;
        Ok((
            DumpReport {
                sha256_hex: summary.sha256_hex,
                crc32c: summary.crc32c,
                size: summary.size,
                pg_dump_version: pending.pg_dump_version,
                server_version: pending.server_version,
                row_counts: pending.row_counts,
            },
            pending.started_at,
        ))
    }
}

fn parse_manifest(key: &str, bytes: &[u8]) -> Result<Manifest, JobError> {
    serde_json::from_slice(bytes)
        .map_err(|e| JobError::Inconsistent(format!("{key}: unreadable manifest: {e}")))
}

impl JobError {
    /// Whether running the same backup again may succeed: a store or database that is
    /// briefly unavailable, not a version mismatch, a missing database or a closed window.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Upload(e) | Self::Manifest(e) => e.is_retryable(),
            Self::Dump(DumpError::Database(e)) => !is_permanent_database_error(e),
            Self::Dump(DumpError::Sink(_) | DumpError::ServerGone(_)) | Self::Crashed(_) => true,
            Self::Dump(_) | Self::WindowClosed(_) | Self::Inconsistent(_) => false,
        }
    }

    /// Another delivery stored this backup's dump first: its manifest follows.
    pub fn lost_race(&self) -> bool {
        matches!(self, Self::Upload(StoreError::AlreadyExists { .. }))
    }
}

/// No such database (3D000), or the login refused (class 28): retrying changes nothing.
fn is_permanent_database_error(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "3D000" || code.starts_with("28"))
}

//! backup-runner: in the nightly window, a verified logical dump of every managed database,
//! streamed create-only to object storage; retention, a dead-man's switch, and restores.
//! See the README.
//!
//! The parts: [`dump`] (pg_dump in an exported snapshot, checksummed as it streams),
//! [`store`] (keys from validated names, the pipe that abandons a failed upload),
//! [`backup`] (one backup, resumable after a crash), [`verify`] (restore into scratch and
//! count), [`catalog`], [`retention`] and [`freshness`] (what the manifests say), and the
//! handlers: the window's fan-out and sweep, one backup, one verification, one restore.
//!
//! [`handle`] is the handler; `main.rs` only reads the [`Config`] and runs it.

pub mod backup;
pub mod catalog;
mod config;
pub mod dump;
mod error;
pub mod exporting;
pub mod fault;
pub mod freshness;
pub mod managed;
pub mod manifest;
pub mod pending;
mod publish;
mod requested;
mod restore_target;
mod restoring;
pub mod retention;
pub mod store;
mod sweep;
mod targets;
pub mod verify;
mod verifying;
mod window;

use std::sync::Arc;

use events::backup::{
    BackupRequested, BackupWindow, ExportRequested, RestoreRequested, VerifyRequested,
};
use shared::{Ctx, Event, Outcome};
use tokio::sync::Semaphore;

pub use config::{Config, ExtraDatabase};
pub use error::{BackupError, BackupStep};

events::payload_enum! {
    /// Everything the runner handles.
    #[derive(Debug)]
    pub enum BackupEvent {
        /// The nightly window.
        Window(BackupWindow),
        /// One database (or all) now.
        Requested(BackupRequested),
        /// Verify one stored backup.
        Verify(VerifyRequested),
        /// Restore a backup into a new database.
        Restore(RestoreRequested),
        /// One managed export.
        Export(ExportRequested),
    }
}

/// What every delivery shares: the settings, the dump slots of this instance, and the
/// managed exporters (built on the first export, so tests and instances without managed
/// exports never build a Google client).
struct Runner {
    config: Config,
    slots: Semaphore,
    exporters: tokio::sync::OnceCell<Option<exporting::Exporters>>,
}

impl Runner {
    async fn exporters(&self) -> Result<Option<&exporting::Exporters>, BackupError> {
        let built = self
            .exporters
            .get_or_try_init(|| exporting::Exporters::connect(&self.config))
            .await
            .map_err(|e| BackupError::Transient {
                subject: "managed exports".into(),
                step: BackupStep::Export,
                reason: format!("{e:#}"),
            })?;
        Ok(built.as_ref())
    }
}

/// Handles one event.
async fn handle(
    event: Event<BackupEvent>,
    ctx: Ctx,
    runner: Arc<Runner>,
) -> Result<Outcome, BackupError> {
    let config = &runner.config;
    match &event.data {
        BackupEvent::Window(w) => {
            window::nightly(
                &ctx,
                config,
                window::window_of(w.window.or(event.time)),
                &event.id,
            )
            .await
        }
        BackupEvent::Requested(request) => {
            requested::requested(&ctx, config, &runner.slots, request, &event.id, event.time).await
        }
        BackupEvent::Verify(request) => verifying::verify(&ctx, config, request).await,
        BackupEvent::Restore(request) => restoring::restore(&ctx, config, request, &event.id).await,
        BackupEvent::Export(request) => {
            let exporters = runner.exporters().await?;
            exporting::export(&ctx, config, exporters, request, &event.id).await
        }
    }
}

/// The handler for `shared::run`, with its configuration bound.
pub fn handler(config: Config) -> impl shared::Handler<BackupEvent> {
    handler_over(config, tokio::sync::OnceCell::new())
}

/// [`handler`] with given exporters (stub clients in tests).
pub fn handler_with_exporters(
    config: Config,
    exporters: exporting::Exporters,
) -> impl shared::Handler<BackupEvent> {
    handler_over(
        config,
        tokio::sync::OnceCell::new_with(Some(Some(exporters))),
    )
}

fn handler_over(
    config: Config,
    exporters: tokio::sync::OnceCell<Option<exporting::Exporters>>,
) -> impl shared::Handler<BackupEvent> {
    let runner = Arc::new(Runner {
        slots: Semaphore::new(config.max_parallel),
        exporters,
        config,
    });
    move |event: Event<BackupEvent>, ctx: Ctx| handle(event, ctx, runner.clone())
}

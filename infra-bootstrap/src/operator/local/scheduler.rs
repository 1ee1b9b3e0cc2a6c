//! The local scheduler: the manifest's jobs published on the emulator by a child process
//! of the stack (`groundskeeper local scheduler`, hidden), as Cloud Scheduler would.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{log_file, process};
use local_components::process::Log;

/// Starts `groundskeeper local scheduler` on `manifest` in its own process group.
pub fn spawn(dir: &Path, manifest: &Path, emulator_host: &str) -> anyhow::Result<u32> {
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .args(["local", "scheduler", "--manifest"])
        .arg(manifest)
        .args(["--emulator-host", emulator_host]);
    let log = log_file(dir, "scheduler");
    let pgid = process::pgid(&process::spawn_group(
        "the scheduler",
        command,
        &log,
        Log::Append,
    )?);
    std::thread::sleep(Duration::from_millis(300));
    anyhow::ensure!(
        process::group_is_alive(pgid),
        "the scheduler exited: {}",
        process::tail(&log, 20)
    );
    Ok(pgid)
}

/// The hidden `local scheduler`: the manifest's jobs on the emulator, until stopped.
pub async fn run(manifest: &Path, emulator_host: &str) -> anyhow::Result<()> {
    let manifest = crate::manifest::Manifest::load(manifest)?;
    let publisher = Arc::new(shared::backends::publisher::PubsubPublisher::new(
        &manifest.project,
        Some(emulator_host),
    )?);
    let scheduler = crate::scheduler::local::LocalScheduler::new(&manifest, publisher)?;
    eprintln!("running {} job(s) on {emulator_host}", manifest.jobs.len());
    scheduler
        .run(&crate::scheduler::local::SystemClock, None)
        .await
        .map(drop)
}

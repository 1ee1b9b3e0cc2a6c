//! The official Pub/Sub emulator (`gcloud beta emulators pubsub start`), in its own process
//! group: killing the `gcloud` wrapper alone leaves the emulator's Java child alive.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use crate::process::{spawn_group, Log};
use crate::ready::wait_http;

/// How long Java may take to answer.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Starts the emulator on 127.0.0.1:`port` for `project`, data under `data_dir`, output in
/// `log`; `extra` goes to `gcloud` (e.g. `--verbosity=error`). The caller records the group
/// before it [`wait`]s, so that an interrupted or failed start still stops it.
pub fn spawn(
    gcloud: &Path,
    project: &str,
    port: u16,
    data_dir: &Path,
    log: (&Path, Log),
    extra: &[&str],
) -> anyhow::Result<Child> {
    std::fs::create_dir_all(data_dir)?;
    let mut command = Command::new(gcloud);
    command
        .args(["beta", "emulators", "pubsub", "start", "--quiet"])
        .args(extra)
        .arg(format!("--host-port=127.0.0.1:{port}"))
        .arg(format!("--project={project}"))
        .arg(format!("--data-dir={}", data_dir.display()));
    spawn_group("the Pub/Sub emulator", command, log.0, log.1)
}

/// Waits until the emulator of group `pgid` answers on `port`.
pub async fn wait(pgid: u32, port: u16, log: &Path) -> anyhow::Result<()> {
    let url = format!("http://127.0.0.1:{port}/");
    wait_http("the Pub/Sub emulator", pgid, &url, log, START_TIMEOUT).await
}

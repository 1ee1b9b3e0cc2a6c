//! backup-runner service binary: reads its configuration and runs the handler. It owns no
//! tables: its state is the objects it writes (dumps, manifests, verification records).

use std::process::ExitCode;

use anyhow::Context as _;
use backup_runner::{handler, Config};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let config = Config::from_env(&shared::env::Env::from_process()).context("configuration")?;
    shared::run(handler(config)).await
}

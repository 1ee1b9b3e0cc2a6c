//! secret-rotator service binary: reads its configuration and runs the handler.

use std::process::ExitCode;

use anyhow::Context as _;
use secret_rotator::{handler, Config};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let config = Config::from_env(&shared::env::Env::from_process()).context("configuration")?;
    shared::run(handler(config)).await
}

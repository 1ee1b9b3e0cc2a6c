//! budget-guard service binary: reads its configuration and runs the handler; `migrate`
//! applies the runtime's migrations and this service's own.

use std::process::ExitCode;

use anyhow::Context as _;
use budget_guard::{handler, migrations, Config};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let config = Config::from_env(&shared::env::Env::from_process()).context("configuration")?;
    shared::run_with_migrations(handler(config), &migrations::MIGRATOR).await
}

//! `groundskeeper`: request environments, wait for them, read their credentials and publish
//! our events — for people and CI pipelines. The commands live in `infra_bootstrap::cli_gk`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    infra_bootstrap::cli_gk::run(infra_bootstrap::cli_gk::Cli::parse()).await
}

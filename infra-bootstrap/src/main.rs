//! infra-bootstrap: plan / apply / destroy / doctor for groundskeeper's event plumbing.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let healthy = infra_bootstrap::cli::run(infra_bootstrap::cli::Cli::parse()).await?;
    Ok(if healthy {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

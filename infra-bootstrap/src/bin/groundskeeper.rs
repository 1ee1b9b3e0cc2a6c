//! `groundskeeper`: request environments, wait for them, read their credentials and publish
//! our events — for people and CI pipelines. The commands live in `infra_bootstrap::operator`.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    match infra_bootstrap::operator::run(infra_bootstrap::operator::Cli::parse()).await {
        Ok(code) => code,
        // One line with the causes, no backtrace: this is read in CI logs.
        Err(e) => {
            eprintln!("groundskeeper: {e:#}");
            ExitCode::FAILURE
        }
    }
}

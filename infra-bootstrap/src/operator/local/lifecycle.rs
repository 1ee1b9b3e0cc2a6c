//! `local stop NAME` / `local start NAME`: one component of a running stack, for fault
//! drills (and for a person restarting a service after a rebuild). A service starts again
//! with the registry's settings, the `--set`s given now and the stack's plumbing, as Cloud
//! Run starts a new instance; PostgreSQL on its data directory and port; the Pub/Sub
//! emulator on its port, empty (it keeps everything in memory), with the plumbing applied
//! again by the bootstrap from the stack's manifest.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use events::platform;
use local_components::process::Log;
use local_components::{pubsub, tools};

use super::components::{self, ServiceEnv};
use super::{log_file, plumbing, postgres, process, ready};
use crate::operator::stack::{StackState, STATE_FILE};

const POSTGRES: &str = "postgres";
const EMULATOR: &str = "pubsub-emulator";

fn read(dir: &Path) -> anyhow::Result<StackState> {
    StackState::read(&dir.join(STATE_FILE))?
        .with_context(|| format!("no local stack in {}", dir.display()))
}

/// The process group `name` runs in, per the state file.
fn pgid_of(state: &StackState, name: &str) -> anyhow::Result<Option<u32>> {
    if let Some(service) = state.services.get(name) {
        return Ok(service.pid);
    }
    state
        .processes
        .get(name)
        .map(|p| Some(*p))
        .with_context(|| format!("the stack has no component {name:?}"))
}

/// The port of `host:port` or of a URL's authority.
fn port_of(address: &str) -> anyhow::Result<u16> {
    let authority = address.split("://").last().unwrap_or(address);
    let authority = authority.split(['/', '@']).find(|s| s.contains(':'));
    authority
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("no port in the stack's address for {address:?}"))
}

/// `local stop NAME`: PostgreSQL with a fast shutdown, anything else by its process group.
pub fn stop(dir: &Path, name: &str) -> anyhow::Result<()> {
    let state = read(dir)?;
    let pgid = pgid_of(&state, name)?;
    if name == POSTGRES {
        anyhow::ensure!(
            postgres::cluster(dir)?.stop("fast"),
            "pg_ctl stop failed; see {}",
            log_file(dir, POSTGRES).display()
        );
    } else if let Some(pgid) = pgid.filter(|p| process::group_is_alive(*p)) {
        process::stop_group(pgid, Duration::from_secs(10));
    }
    eprintln!("groundskeeper: stopped {name}");
    Ok(())
}

/// `local start NAME`: starts a stopped (or killed) component again and records its new
/// process group in the state file.
pub async fn start(dir: &Path, name: &str, sets: &[String]) -> anyhow::Result<()> {
    let mut state = read(dir)?;
    if let Some(pgid) = pgid_of(&state, name)?.filter(|p| process::group_is_alive(*p)) {
        anyhow::bail!("{name} is running (process group {pgid}); stop it first");
    }
    let log = log_file(dir, name);
    let pgid = match name {
        POSTGRES => {
            let port = port_of(&state.database_url)?;
            let cluster = postgres::cluster(dir)?;
            tokio::task::spawn_blocking(move || cluster.start(port, &log, &[])).await??
        }
        EMULATOR => start_emulator(dir, &state, &log).await?,
        service => {
            let spec = platform::built()
                .find(|s| s.name == service)
                .with_context(|| format!("{service} is no built service of the registry"))?;
            let url = &state.services[service].url;
            let port = port_of(url)?;
            let binary = components::service_binaries()?
                .into_iter()
                .find(|(s, _)| s.name == service)
                .map(|(_, b)| b)
                .context("the service's binary")?;
            let env = ServiceEnv {
                project: state.project.clone(),
                emulator_host: state.pubsub_emulator_host.clone(),
                database_url: state.database_url.clone(),
                admin_url: state.postgres_admin_url.clone().unwrap_or_default(),
                object_store_url: state.object_store_url.clone().unwrap_or_default(),
                events_topic: plumbing::local_manifest(&Default::default())?.events_topic,
            };
            let sets = super::settings::parse_all(sets)?;
            let pgid = components::spawn_service(spec, &binary, port, &env, &sets, &log)?;
            let health = format!("{url}healthz");
            ready::wait_http(service, pgid, &health, &log, Duration::from_secs(60)).await?;
            pgid
        }
    };
    match state.services.get_mut(name) {
        Some(service) => service.pid = Some(pgid),
        None => {
            state.processes.insert(name.to_owned(), pgid);
        }
    }
    state.write(&dir.join(STATE_FILE))?;
    eprintln!("groundskeeper: started {name} (process group {pgid})");
    Ok(())
}

/// The emulator again on its port; then the plumbing, which it forgot, from the manifest
/// `up` applied (the bootstrap's plan and apply, as an operator runs after losing it).
async fn start_emulator(dir: &Path, state: &StackState, log: &Path) -> anyhow::Result<u32> {
    let port = port_of(&state.pubsub_emulator_host)?;
    let child = pubsub::spawn(
        &tools::gcloud()?,
        &state.project,
        port,
        &dir.join("pubsub"),
        (log, Log::Append),
        &[],
    )?;
    let pgid = process::pgid(&child);
    pubsub::wait(pgid, port, log).await?;
    let file = state
        .manifest
        .clone()
        .context("the state file records no manifest")?;
    let manifest = crate::manifest::Manifest::load(&file)
        .with_context(|| format!("reading {}", file.display()))?;
    plumbing::apply(&manifest, &state.pubsub_emulator_host, &file).await?;
    Ok(pgid)
}

#[cfg(test)]
mod tests {
    use super::port_of;

    #[test]
    fn the_port_comes_from_an_address_or_a_url() {
        assert_eq!(port_of("127.0.0.1:8085").unwrap(), 8085);
        assert_eq!(port_of("http://127.0.0.1:8081/").unwrap(), 8081);
        assert_eq!(
            port_of("postgres://postgres@127.0.0.1:5433/groundskeeper").unwrap(),
            5433
        );
        assert!(port_of("http://localhost/").is_err());
    }
}

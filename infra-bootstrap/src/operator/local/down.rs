//! `local down`: stop every process the stack started, by its process group, stop
//! PostgreSQL, and remove the state directory.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use super::postgres;
use super::process::{group_is_alive, stop_group};
use crate::operator::stack::{StackState, STATE_FILE};

/// Every process group of the stack: the scheduler first (it publishes), then the
/// services, then the emulator and PostgreSQL.
pub fn pgids(state: &StackState) -> Vec<u32> {
    let named = |name: &str| state.processes.get(name).copied();
    named("scheduler")
        .into_iter()
        .chain(state.services.values().filter_map(|s| s.pid))
        .chain(named("pubsub-emulator"))
        .chain(named("postgres"))
        .collect()
}

/// `local down`.
pub fn down(dir: &Path) -> anyhow::Result<()> {
    let Some(state) = StackState::read(&dir.join(STATE_FILE))? else {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
            eprintln!(
                "groundskeeper: no stack state in {}; removed the directory",
                dir.display()
            );
        } else {
            eprintln!("groundskeeper: no local stack in {}", dir.display());
        }
        return Ok(());
    };
    let left = stop(dir, &state);
    anyhow::ensure!(
        left.is_empty(),
        "process groups {left:?} did not stop; {} is kept",
        dir.display()
    );
    std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    eprintln!(
        "groundskeeper: stopped the local stack and removed {}",
        dir.display()
    );
    Ok(())
}

/// Stops what `state` records (and a cluster under `dir` it may not record yet); returns
/// the process groups still alive afterwards.
pub fn stop(dir: &Path, state: &StackState) -> Vec<u32> {
    let data = dir.join("postgres/data");
    // pg_ctl first: a fast shutdown, rather than a signal to the whole group.
    if data.join("postmaster.pid").is_file() {
        if let Ok(cluster) = postgres::cluster(dir) {
            cluster.stop("fast");
        }
    }
    for pgid in pgids(state) {
        if group_is_alive(pgid) {
            stop_group(pgid, Duration::from_secs(10));
        }
    }
    pgids(state)
        .into_iter()
        .filter(|p| group_is_alive(*p))
        .collect()
}

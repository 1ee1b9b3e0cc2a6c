//! `local status` and `local logs`.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use super::log_file;
use super::process::group_is_alive;
use super::ready::tcp_answers as answers;
use crate::operator::stack::{StackState, STATE_FILE};
use crate::output::{self, Output};

/// One row of `local status`.
#[derive(Debug, Serialize)]
struct Component {
    name: String,
    address: String,
    pid: Option<u32>,
    alive: bool,
    log: PathBuf,
}

/// `local status`: what runs, where. Exits with an error when no stack is recorded.
pub async fn status(dir: &Path, out: Output) -> anyhow::Result<()> {
    let state = StackState::read(&dir.join(STATE_FILE))?.with_context(|| {
        format!(
            "no local stack in {} (`groundskeeper local up` starts one)",
            dir.display()
        )
    })?;
    print(dir, &state, out).await
}

/// Prints the stack's components, addresses and liveness.
pub async fn print(dir: &Path, state: &StackState, out: Output) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut row = |name: &str, address: String, pid: Option<u32>, reachable: bool| {
        rows.push(Component {
            name: name.to_owned(),
            alive: pid.is_some_and(group_is_alive) && reachable,
            address,
            pid,
            log: log_file(dir, name),
        });
    };
    let emulator = &state.pubsub_emulator_host;
    row(
        "pubsub-emulator",
        emulator.clone(),
        state.processes.get("pubsub-emulator").copied(),
        answers(emulator).await,
    );
    let admin = state.postgres_admin_url.clone().unwrap_or_default();
    let pg_addr = reqwest::Url::parse(&admin)
        .ok()
        .map(|u| format!("127.0.0.1:{}", u.port().unwrap_or(5432)));
    let pg_up = match &pg_addr {
        Some(a) => answers(a).await,
        None => false,
    };
    row(
        "postgres",
        admin,
        state.processes.get("postgres").copied(),
        pg_up,
    );
    for (name, service) in &state.services {
        let addr = reqwest::Url::parse(&service.url)
            .ok()
            .and_then(|u| u.socket_addrs(|| None).ok())
            .and_then(|a| a.first().copied());
        let up = match addr {
            Some(a) => answers(&a.to_string()).await,
            None => false,
        };
        row(name, service.url.clone(), service.pid, up);
    }
    let manifest = state
        .manifest
        .as_ref()
        .map_or(String::new(), |m| format!("jobs of {}", m.display()));
    row(
        "scheduler",
        manifest,
        state.processes.get("scheduler").copied(),
        true,
    );
    let value = serde_json::json!({
        "state_dir": dir,
        "project": state.project,
        "control_database_url": state.database_url,
        "object_store_url": state.object_store_url,
        "events_subscription": state.events_subscription,
        "started_at": state.started_at,
        "components": rows,
    });
    output::print(out, &value, |_| table(dir, state, &rows))
}

fn table(dir: &Path, state: &StackState, rows: &[Component]) -> String {
    let mut out = format!(
        "{:<17} {:<6} {:>8}  {}\n",
        "COMPONENT", "ALIVE", "PID", "ADDRESS"
    );
    for r in rows {
        let pid = r.pid.map_or("-".to_owned(), |p| p.to_string());
        let alive = if r.alive { "yes" } else { "NO" };
        out.push_str(&format!(
            "{:<17} {alive:<6} {pid:>8}  {}\n",
            r.name, r.address
        ));
    }
    out.push_str(&format!(
        "\nstate directory   {}\ncontrol database  {}\nobject store      {}\nevents watch      {} (pull subscription on groundskeeper-events)\n",
        dir.display(),
        state.database_url,
        state.object_store_url.as_deref().unwrap_or("-"),
        state.events_subscription.as_deref().unwrap_or("-"),
    ));
    out
}

/// `local logs NAME [--follow]`.
pub async fn logs(dir: &Path, name: &str, follow: bool) -> anyhow::Result<()> {
    let file = log_file(dir, name);
    let mut log = std::fs::File::open(&file).with_context(|| {
        let known: Vec<String> = std::fs::read_dir(dir.join("logs"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".log")
                    .map(str::to_owned)
            })
            .collect();
        format!(
            "no log {} (the stack's logs: {})",
            file.display(),
            known.join(", ")
        )
    })?;
    std::io::copy(&mut log, &mut std::io::stdout().lock())?;
    if !follow {
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let mut more = Vec::new();
        log.read_to_end(&mut more)?;
        if more.is_empty() && log.stream_position()? > std::fs::metadata(&file)?.len() {
            log.rewind()?; // truncated
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&more)?;
        stdout.flush()?;
    }
}

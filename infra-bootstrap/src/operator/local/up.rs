//! `local up`: start every component, apply the plumbing, start the scheduler, write the
//! state file. A failure (or Ctrl-C) stops what was started and leaves no state behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use events::platform::ServiceSpec;
use local_components::postgres::PASSWORDS_HBA;
use local_components::process::Log;
use local_components::{pubsub, tools};

use super::components::{self, ServiceEnv};
use super::postgres;
use super::{down, log_file, plumbing, ports, process, ready, UpArgs};
use crate::operator::stack::{StackService, StackState, STATE_FILE, VERSION};

/// The stack recorded in `dir` when any of its processes is alive; a dead one's leftovers
/// are removed.
pub fn running(dir: &Path) -> anyhow::Result<Option<StackState>> {
    let Some(state) = StackState::read(&dir.join(STATE_FILE))? else {
        return Ok(None);
    };
    if down::pgids(&state).into_iter().any(process::group_is_alive) {
        return Ok(Some(state));
    }
    eprintln!(
        "groundskeeper: removing the leftovers of a stopped stack in {}",
        dir.display()
    );
    std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok(None)
}

/// Starts the stack in `dir`, or refuses when one runs there already.
pub async fn up(dir: &Path, args: &UpArgs) -> anyhow::Result<StackState> {
    if let Some(state) = running(dir)? {
        anyhow::bail!(
            "a local stack is already running in {} (emulator at {}); \
             `groundskeeper local status` shows it, `groundskeeper local down` stops it",
            dir.display(),
            state.pubsub_emulator_host
        );
    }
    let starting = dir.join("up.pid");
    if let Ok(pid) = std::fs::read_to_string(&starting) {
        let pid: u32 = pid.trim().parse().unwrap_or(0);
        anyhow::ensure!(
            pid == 0
                || !process::group_is_alive(pid) && !Path::new(&format!("/proc/{pid}")).exists(),
            "another `groundskeeper local up` (pid {pid}) is starting a stack in {}",
            dir.display()
        );
    }
    let gcloud = find_tools()?;
    let binaries = components::service_binaries()?;
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&starting, std::process::id().to_string())?;
    let mut state = StackState {
        version: VERSION,
        project: plumbing::local_manifest(&BTreeMap::new())?.project,
        pubsub_emulator_host: String::new(),
        database_url: String::new(),
        postgres_admin_url: None,
        object_store_url: None,
        services: BTreeMap::new(),
        processes: BTreeMap::new(),
        started_at: None,
        events_subscription: None,
        manifest: None,
    };
    let started = tokio::select! {
        result = start(dir, args, &gcloud, &binaries, &mut state) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let _ = std::fs::remove_file(&starting);
    if let Err(e) = started {
        eprintln!("groundskeeper: stopping what was started");
        down::stop(dir, &state);
        let _ = std::fs::remove_dir_all(dir);
        return Err(e);
    }
    state.started_at = Some(chrono::Utc::now());
    state.write(&dir.join(STATE_FILE))?;
    super::status::print(dir, &state, crate::output::Output::Table).await?;
    Ok(state)
}

/// `gcloud` with the emulator, after checking PostgreSQL is there too: every missing
/// program at once, with its install command.
fn find_tools() -> anyhow::Result<std::path::PathBuf> {
    match (tools::gcloud(), tools::pg_bin()) {
        (Ok(gcloud), Ok(_)) => Ok(gcloud),
        (gcloud, pg) => {
            let missing: Vec<String> = [gcloud.err(), pg.err()]
                .into_iter()
                .flatten()
                .map(|e| e.to_string())
                .collect();
            anyhow::bail!("the local stack needs {}", missing.join("\nand "))
        }
    }
}

async fn start(
    dir: &Path,
    args: &UpArgs,
    gcloud: &Path,
    binaries: &[(&'static ServiceSpec, PathBuf)],
    state: &mut StackState,
) -> anyhow::Result<()> {
    let step = |what: &str| eprintln!("groundskeeper: {what}");
    let (emulator_port, pg_port) = (
        ports::pick_port(8085, args.free_ports)?,
        ports::pick_port(5432, args.free_ports)?,
    );
    step("starting PostgreSQL and the Pub/Sub emulator");
    let cluster = postgres::cluster(dir)?;
    let pg_log = log_file(dir, "postgres");
    let pg = tokio::task::spawn_blocking(move || {
        cluster.init(&pg_log, Some(PASSWORDS_HBA))?;
        cluster.start(pg_port, &pg_log, &[])
    });
    let emulator_log = log_file(dir, "pubsub-emulator");
    let emulator = process::pgid(&pubsub::spawn(
        gcloud,
        &state.project,
        emulator_port,
        &dir.join("pubsub"),
        (&emulator_log, Log::Append),
        &[],
    )?);
    state.processes.insert("pubsub-emulator".into(), emulator);
    let answered = pubsub::wait(emulator, emulator_port, &emulator_log);
    let (pg, answered) = tokio::join!(pg, answered);
    // Record the cluster before failing on the emulator, so that it is stopped too.
    let pg = pg.context("starting PostgreSQL")?;
    if let Ok(pid) = &pg {
        state.processes.insert("postgres".into(), *pid);
    }
    pg?;
    answered?;
    let admin_url = format!("postgres://postgres@127.0.0.1:{pg_port}/postgres");
    postgres::create_control_db(&admin_url).await?;
    state.pubsub_emulator_host = format!("127.0.0.1:{emulator_port}");
    state.database_url = format!(
        "postgres://postgres@127.0.0.1:{pg_port}/{}",
        postgres::CONTROL_DB
    );
    state.postgres_admin_url = Some(admin_url.clone());
    let objects = dir.join("objects");
    std::fs::create_dir_all(&objects)?;
    state.object_store_url = Some(format!("file://{}", objects.canonicalize()?.display()));
    let manifest = plumbing::local_manifest(&BTreeMap::new())?;
    let env = ServiceEnv {
        project: state.project.clone(),
        emulator_host: state.pubsub_emulator_host.clone(),
        database_url: state.database_url.clone(),
        admin_url,
        object_store_url: state.object_store_url.clone().unwrap_or_default(),
        events_topic: manifest.events_topic,
    };
    for (spec, binary) in binaries {
        step(&format!(
            "migrating the control database ({} migrate)",
            spec.name
        ));
        let (binary, url, log) = (
            binary.clone(),
            env.database_url.clone(),
            log_file(dir, "migrate"),
        );
        tokio::task::spawn_blocking(move || components::migrate(&binary, &url, &log))
            .await
            .context("running migrate")??;
    }
    for (spec, binary) in binaries {
        let name = &spec.name;
        step(&format!("starting {name}"));
        let port = ports::pick_port(spec.local.port, args.free_ports)?;
        let log = log_file(dir, name);
        let sets = super::settings::parse_all(&args.set)?;
        let pgid = components::spawn_service(spec, binary, port, &env, &sets, &log)?;
        let url = format!("http://127.0.0.1:{port}/");
        state.services.insert(
            (*name).to_owned(),
            StackService {
                url: url.clone(),
                pid: Some(pgid),
                log: Some(log.clone()),
            },
        );
        let health = format!("{url}healthz");
        ready::wait_http(name, pgid, &health, &log, Duration::from_secs(60)).await?;
    }
    step("applying the plumbing (infra-bootstrap, local manifest)");
    let urls = state
        .services
        .iter()
        .map(|(n, s)| (n.clone(), s.url.clone()))
        .collect();
    let manifest = plumbing::local_manifest(&urls)?;
    let file = dir.join("manifest.toml");
    plumbing::apply(&manifest, &state.pubsub_emulator_host, &file).await?;
    state.events_subscription = Some(plumbing::WATCH_SUBSCRIPTION.to_owned());
    state.manifest = Some(file.canonicalize()?);
    step("starting the local scheduler");
    let pgid = super::scheduler::spawn(dir, &file, &state.pubsub_emulator_host)?;
    state.processes.insert("scheduler".into(), pgid);
    Ok(())
}

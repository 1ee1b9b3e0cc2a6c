//! The command line: parse, load the manifest, connect, dispatch.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::converge::{self, Desired, Stores};
use crate::manifest::Manifest;
use crate::output::{self, Output};
use crate::plan::Change;
use crate::pubsub::PubsubAdmin;

/// groundskeeper's event plumbing as a declarative plan.
#[derive(Debug, Parser)]
#[command(name = "infra-bootstrap", version)]
pub struct Cli {
    /// The manifest (one TOML file per environment).
    #[arg(
        long,
        global = true,
        default_value = "infra-bootstrap/manifests/local.toml"
    )]
    pub manifest: PathBuf,
    /// Overrides the manifest's project id.
    #[arg(long, global = true)]
    pub project: Option<String>,
    /// Pub/Sub emulator `HOST:PORT`; Pub/Sub calls go there with anonymous credentials.
    #[arg(long, global = true, env = "PUBSUB_EMULATOR_HOST")]
    pub emulator_host: Option<String>,
    /// `table` for people, `json` for machines.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change; changes nothing.
    Plan,
    /// Converge the live plumbing to the manifest. Fails, changing nothing, when a resource of
    /// a manifest name is not labelled managed-by=groundskeeper, or when the plan re-creates a
    /// subscription (losing its backlog) without --allow-recreate.
    Apply {
        /// Allow deleting and re-creating subscriptions whose topic changed: their backlog of
        /// unacknowledged messages is lost.
        #[arg(long)]
        allow_recreate: bool,
    },
    /// Remove everything labelled managed-by=groundskeeper.
    Destroy {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Check the live plumbing for the known traps; exit code 1 when unhealthy.
    Doctor,
    /// Publish one scheduler job's message now.
    RunJob { name: String },
    /// Run the manifest's scheduler jobs locally (emulator mode), until interrupted.
    Scheduler,
}

/// Runs the parsed command; `Ok(false)` means "ran, but unhealthy" (doctor).
pub async fn run(cli: Cli) -> anyhow::Result<bool> {
    let mut manifest = Manifest::load(&cli.manifest)?;
    if let Some(project) = &cli.project {
        manifest.project.clone_from(project);
    }
    let emulator = cli.emulator_host.as_deref();
    let publisher = || {
        shared::backends::publisher::PubsubPublisher::new(&manifest.project, emulator).map(Arc::new)
    };
    match cli.command {
        Command::Plan => {
            let (desired, stores) = connect(&manifest, emulator).await?;
            let changes = converge::plan(&desired, &stores).await?;
            output::print(cli.output, &changes, |c| output::plan_table(c))?;
        }
        Command::Apply { allow_recreate } => {
            let (desired, stores) = connect(&manifest, emulator).await?;
            let changes = converge::plan(&desired, &stores).await?;
            output::print(cli.output, &changes, |c| output::plan_table(c))?;
            let allow = converge::Allow {
                recreate: allow_recreate,
            };
            converge::apply_allowing(&desired, &stores, &changes, allow).await?;
        }
        Command::Destroy { yes } => {
            let (_, stores) = connect(&manifest, emulator).await?;
            let nothing = Desired::empty();
            let changes = converge::plan(&nothing, &stores).await?;
            output::print(cli.output, &changes, |c| output::plan_table(c))?;
            if !changes.iter().any(Change::is_change) {
                return Ok(true);
            }
            if !yes && !confirm("delete the resources above?")? {
                eprintln!("nothing deleted");
                return Ok(true);
            }
            converge::apply(&nothing, &stores, &changes).await?;
        }
        Command::Doctor => {
            let admin = PubsubAdmin::connect(&manifest.project, emulator).await?;
            let mut report = crate::doctor::run(&manifest, &admin, publisher()?).await?;
            if let Some(google) =
                crate::doctor::google::Clients::connect(&manifest, emulator).await?
            {
                report.checks.extend(google.checks(&manifest).await);
            }
            output::print(cli.output, &report, crate::doctor::table)?;
            return Ok(report.healthy());
        }
        Command::RunJob { name } => {
            let scheduler = crate::scheduler::local::LocalScheduler::new(&manifest, publisher()?)?;
            let fired = scheduler.run_job(&name, chrono::Utc::now()).await?;
            println!(
                "published {} to {} (message {})",
                fired.job,
                topic_of(&manifest, &name),
                fired.message_id
            );
        }
        Command::Scheduler => {
            let scheduler = crate::scheduler::local::LocalScheduler::new(&manifest, publisher()?)?;
            eprintln!("running {} job(s); Ctrl-C to stop", manifest.jobs.len());
            scheduler
                .run(&crate::scheduler::local::SystemClock, None)
                .await?;
        }
    }
    Ok(true)
}

fn topic_of(manifest: &Manifest, job: &str) -> String {
    manifest
        .job(job)
        .map(|j| j.topic.clone())
        .unwrap_or_default()
}

/// The desired state and the stores for the manifest's mode.
pub async fn connect(
    manifest: &Manifest,
    emulator: Option<&str>,
) -> anyhow::Result<(Desired, Stores)> {
    let desired = Desired::from_manifest(manifest)?;
    crate::store::progress(format_args!(
        "connecting to Pub/Sub{}",
        emulator
            .map(|h| format!(" emulator at {h}"))
            .unwrap_or_default()
    ));
    let admin = Arc::new(PubsubAdmin::connect(&manifest.project, emulator).await?);
    let mut stores = Stores {
        topics: admin.clone(),
        subscriptions: admin,
        jobs: None,
        budgets: None,
        // Grants are planned and applied with the rest; the emulator has no IAM.
        iam: crate::iam::PolicyClients::for_manifest(manifest, emulator)
            .await?
            .map(Arc::new),
    };
    if manifest.mode == crate::manifest::Mode::Google {
        stores.jobs = Some(Arc::new(
            crate::scheduler::cloud::SchedulerJobs::connect(manifest).await?,
        ));
        if let Some(b) = &manifest.budgets {
            stores.budgets = Some(Arc::new(crate::budgets::BudgetsRest::connect(
                &b.billing_account,
            )?));
        }
    }
    Ok((desired, stores))
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

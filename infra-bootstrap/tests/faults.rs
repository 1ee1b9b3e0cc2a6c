//! Issue 14, section 1: faults on the whole local stack (`groundskeeper local up`, every
//! service as a process of its own, push subscriptions with dead-letter topics), during a
//! burst of mixed events published through the CLI and the emulator's REST API:
//!
//! - kill -9 at crash points: env-provisioner, secret-rotator and backup-runner run with
//!   theirs armed by `GROUNDSKEEPER_CRASH_AT`, SIGKILL themselves at each in turn and are
//!   started again (`local start`), while Pub/Sub redelivers; budget-guard is SIGKILLed by
//!   group while its notification is in flight (its crash points sit where a level changes a
//!   resource, and the local budget's scope holds none of the suite's environments);
//! - PostgreSQL stopped (`local stop postgres`) mid-burst, then started again;
//! - (long variant) the Pub/Sub emulator restarted, its plumbing applied again.
//!
//! Then every event is accounted for — done (its outcome event seen) or dead-lettered with
//! a reason, else lost — and the state is checked: no duplicate side effect, no environment
//! whose `current` credentials fail to log in, no half-made environment; and no secret in
//! any log, dead letter or output. The short variant (`make chaos-short`) samples the crash
//! points and stops PostgreSQL for 5 s; the long one (`make chaos`): every crash point, 30 s,
//! and the emulator restart. `UPDATE_RELIABILITY=1` writes the table into RELIABILITY.md.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "support/accounting.rs"]
mod accounting;
#[path = "support/build.rs"]
mod build;
#[path = "support/crasher.rs"]
mod crasher;
#[path = "support/fault_bins.rs"]
mod fault_bins;
#[path = "support/leaks.rs"]
mod leaks;
#[path = "support/nudger.rs"]
mod nudger;
#[path = "support/outcomes.rs"]
mod outcomes;
#[path = "support/stack.rs"]
mod stack;
#[path = "support/tmpfs.rs"]
mod tmpfs;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use accounting::{account, check_environments, secret_of, Row, Sent};
use events::types;
use infra_bootstrap::operator::env::connection_url;
use infra_bootstrap::operator::local::WATCH_SUBSCRIPTION;
use secrecy::ExposeSecret as _;
use shared::backends::secrets::{LocalSecretStore, SecretStore};
use sqlx::PgPool;
use stack::Stack;

/// How much of the suite runs.
struct Variant {
    name: &'static str,
    /// Every crash point, or a sample.
    all_points: bool,
    postgres_down: Duration,
    emulator_restart: bool,
    /// How long the object store's disk stays full once a backup has hit it.
    disk_full: Duration,
    /// How long a scenario may take to settle after its fault.
    settle: Duration,
}

const SHORT: Variant = Variant {
    name: "short",
    all_points: false,
    postgres_down: Duration::from_secs(5),
    emulator_restart: false,
    disk_full: Duration::from_secs(5),
    settle: Duration::from_secs(300),
};

const LONG: Variant = Variant {
    name: "long",
    all_points: true,
    postgres_down: Duration::from_secs(30),
    emulator_restart: true,
    disk_full: Duration::from_secs(30),
    settle: Duration::from_secs(90 * 60),
};

/// env-provisioner's crash points (its `fault` module): around every provisioning step,
/// around `environment.ready`, around a teardown. The sample is the one after the
/// credentials secret is written and before that is recorded.
fn provisioner_points(all: bool) -> Vec<String> {
    if !all {
        return vec!["credentials:after".to_owned()];
    }
    env_provisioner::STEPS
        .iter()
        .flat_map(|s| [format!("{s}:before"), format!("{s}:after")])
        .chain(
            ["ready", "teardown"]
                .iter()
                .flat_map(|p| [format!("{p}:before"), format!("{p}:after")]),
        )
        .collect()
}

/// secret-rotator's crash points; the sample is the one after `current` moved to the new
/// version and before that is recorded.
fn rotator_points(all: bool) -> Vec<String> {
    secret_rotator::fault::POINTS
        .iter()
        .filter(|p| all || **p == "finish:moved")
        .map(|p| (*p).to_owned())
        .collect()
}

/// backup-runner's crash points that a backup and its verification pass (the restore's need
/// a restore, which the burst does not ask for); the sample is the one after the manifest is
/// stored and before `backup.completed` is sent.
fn runner_points(all: bool) -> Vec<String> {
    backup_runner::fault::POINTS
        .iter()
        .filter(|p| !p.starts_with("restore:"))
        .filter(|p| all || **p == "manifest:after")
        .map(|p| (*p).to_owned())
        .collect()
}

/// The stack under test, its control and admin pools, and what it said back.
struct Suite {
    /// The object store's own small disk (dropped, so unmounted, before the stack).
    tmpfs: Result<tmpfs::Tmpfs, String>,
    stack: Stack,
    _bins: tempfile::TempDir,
    exe: std::path::PathBuf,
    control: PgPool,
    admin: PgPool,
    collector: outcomes::Collector,
    /// Restarts the emulator's redelivery when it stalls (its defect: see the module).
    nudger: nudger::Nudger,
    /// Everything the CLI printed (scanned for secrets).
    outputs: Vec<String>,
    /// Secret versions each environment should have (1, plus one per rotation).
    versions: BTreeMap<String, usize>,
}

impl Suite {
    async fn start() -> Self {
        let bins = tokio::task::spawn_blocking(fault_bins::fault_binaries)
            .await
            .unwrap();
        let exe = crasher::exe_in(bins.path());
        let sets: Vec<String> = events::platform::built()
            .flat_map(|s| crasher::stack_sets(s.name))
            .collect();
        let args: Vec<&str> = sets.iter().flat_map(|s| ["--set", s.as_str()]).collect();
        let stack = Stack::up_from(&exe, &args, &[]);
        // Before any object exists, so the store lives on it from the start.
        let tmpfs = tmpfs::Tmpfs::mount(&stack.dir.join("objects"), "64m");
        let state = &stack.state;
        let control = PgPool::connect(&state.database_url).await.unwrap();
        let admin = PgPool::connect(state.postgres_admin_url.as_deref().unwrap())
            .await
            .unwrap();
        let subscriptions = std::iter::once(WATCH_SUBSCRIPTION.to_owned())
            .chain(events::platform::built().map(|s| format!("{}-dead-letter-sub", s.name)))
            .collect();
        let collector =
            outcomes::Collector::start(&state.pubsub_emulator_host, &state.project, subscriptions);
        let nudger = nudger::Nudger::start(
            &state.pubsub_emulator_host,
            &state.project,
            collector.counter(),
        );
        Self {
            tmpfs,
            stack,
            _bins: bins,
            exe,
            control,
            admin,
            collector,
            nudger,
            outputs: Vec::new(),
            versions: BTreeMap::new(),
        }
    }

    /// `groundskeeper ARGS` through the CLI, which must succeed.
    fn cli(&mut self, args: &[&str]) -> String {
        let out = self.stack.ok(args);
        self.outputs.push(out.clone());
        out
    }

    fn request(&mut self, name: &str) -> Sent {
        // An owner each: the per-owner quota (MAX_ENVIRONMENTS_PER_OWNER) is not under test.
        let owner = format!("{name}@example.com");
        self.cli(&["env", "request", name, "--owner", &owner, "--ttl", "2h"]);
        self.versions.insert(name.to_owned(), 1);
        sent(types::ENVIRONMENT_REQUESTED, name)
    }

    fn teardown(&mut self, name: &str) -> Sent {
        self.cli(&["env", "teardown", name]);
        sent(types::ENVIRONMENT_TEARDOWN_REQUESTED, name)
    }

    fn rotate(&mut self, name: &str) -> Sent {
        self.cli(&[
            "secret",
            "rotate",
            "--environment",
            name,
            "--reason",
            "chaos",
        ]);
        *self.versions.entry(name.to_owned()).or_insert(1) += 1;
        sent(types::ROTATION_REQUESTED, name)
    }

    fn backup(&mut self, name: &str) -> Sent {
        self.cli(&["backup", "now", name]);
        sent(types::BACKUP_REQUESTED, name)
    }

    /// Cloud Billing's notification for the local budget (no CloudEvents attributes), through
    /// the emulator's REST API as Cloud Billing publishes it.
    async fn budget(&mut self, period: &str, cost: f64) -> Sent {
        let data = serde_json::json!({
            "budgetDisplayName": "groundskeeper dev (local)",
            "costAmount": cost,
            "costIntervalStart": period,
            "budgetAmount": 100.0,
            "budgetAmountType": "SPECIFIED_AMOUNT",
            "currencyCode": "EUR",
        });
        let state = &self.stack.state;
        let url = format!(
            "http://{}/v1/projects/{}/topics/budget-alerts:publish",
            state.pubsub_emulator_host, state.project
        );
        let body = serde_json::json!({ "messages": [{
            "data": base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                data.to_string()
            ),
            "attributes": {
                "billingAccountId": "000000-000000-000000",
                "budgetId": "local-dev",
                "schemaVersion": "1.0",
            },
        }]});
        let reply = reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "publish: {}", reply.status());
        sent("budget", period)
    }

    /// Waits until `names` are ready (the CLI's own `env wait`), at most `within`.
    fn wait_ready(&mut self, names: &[String], within: Duration) {
        let timeout = format!("{}s", within.as_secs());
        for name in names {
            let status = self.cli(&["env", "wait", name, "--timeout", &timeout]);
            assert_eq!(status, "ready", "{name}");
        }
    }

    /// Accounts for `sent` once every event is done or dead-lettered, or at `deadline`.
    async fn settle(&self, scenario: &str, sent: &[Sent], deadline: Instant) -> Row {
        loop {
            let row = account(scenario, sent, &self.collector.seen());
            if row.lost.is_empty() || Instant::now() > deadline {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// [`Suite::settle`] for a scenario's row, which says how often the emulator's
    /// redelivery had to be nudged since the scenario began (`nudges` then).
    async fn settle_since(
        &self,
        nudges: usize,
        scenario: &str,
        sent: &[Sent],
        deadline: Instant,
    ) -> Row {
        let mut row = self.settle(scenario, sent, deadline).await;
        row.scenario += &nudger::note(self.nudger.nudges() - nudges);
        row
    }

    /// SIGKILLs a service's whole group at whatever moment it is in, then starts a new
    /// instance.
    fn kill_and_restart(&mut self, service: &str) {
        self.stack.refresh();
        let pgid = self.stack.state.services[service].pid.unwrap();
        local_components::process::kill_group(pgid);
        let gone = local_components::process::wait_gone(pgid, Duration::from_secs(10));
        assert!(gone, "{service} survived SIGKILL");
        let sets = crasher::stack_sets(service);
        crasher::start(&self.exe, &self.stack.dir, service, &sets);
    }

    /// Every password any version of `names`' secrets holds.
    async fn passwords(&self, names: &[String]) -> Vec<String> {
        let secrets = LocalSecretStore::new(self.control.clone());
        let mut passwords = Vec::new();
        for name in names {
            let Some(info) = secrets.get_secret(&secret_of(name)).await.unwrap() else {
                continue;
            };
            for version in info.versions {
                let Ok(json) = secrets
                    .access(&secret_of(name), &version.version.to_string())
                    .await
                else {
                    continue; // destroyed
                };
                let url = connection_url(&json).unwrap();
                passwords.push(leaks::password_of(url.expose_secret()));
            }
        }
        passwords
    }
}

fn sent(ty: &'static str, subject: &str) -> Sent {
    Sent {
        ty,
        subject: subject.to_owned(),
    }
}

/// A period of the local budget this suite owns: the first of a month far ahead (allowed by
/// the stack's PERIOD_MAX_AHEAD_HOURS), 08:00 UTC as Cloud Billing's Pacific midnight.
fn period(months_ahead: u32) -> String {
    use chrono::{Datelike as _, Months};
    let now = chrono::Utc::now();
    let first = now.date_naive().with_day0(0).unwrap() + Months::new(months_ahead);
    format!("{first}T08:00:00Z")
}

/// Scenario: every armed crash point of env-provisioner, secret-rotator and backup-runner
/// fires once (a SIGKILL each, a new instance each time) during a burst of requests,
/// teardowns, rotations, a backup and a budget notification; budget-guard is SIGKILLed
/// while its notification is in flight.
async fn crash_points(suite: &mut Suite, variant: &Variant, names: &mut Vec<String>) -> Row {
    let nudges = suite.nudger.nudges();
    let provisioner = provisioner_points(variant.all_points);
    let rotator = rotator_points(variant.all_points);
    let env_for = |i: usize| format!("k{i}");
    let rot_env = |j: usize| format!("r{j}");
    let armed: Vec<crasher::Point> = provisioner
        .iter()
        .enumerate()
        .map(|(i, p)| (env_for(i), p.clone()))
        .collect();
    let rotations: Vec<crasher::Point> = rotator
        .iter()
        .enumerate()
        .map(|(j, p)| (secret_of(&rot_env(j)), p.clone()))
        .collect();
    let deadline = Instant::now() + variant.settle;
    let (exe, dir) = (suite.exe.clone(), suite.stack.dir.clone());
    let (runner_exe, runner_dir) = (exe.clone(), dir.clone());
    crasher::arm(&exe, &dir, "env-provisioner", &armed);
    crasher::arm(&exe, &dir, "secret-rotator", &rotations);
    let crash_provisioner = {
        let (exe, dir) = (exe.clone(), dir.clone());
        tokio::task::spawn_blocking(move || {
            crasher::run(&exe, &dir, "env-provisioner", armed, deadline)
        })
    };
    let crash_rotator = tokio::task::spawn_blocking(move || {
        crasher::run(&exe, &dir, "secret-rotator", rotations, deadline)
    });
    let mut sent = Vec::new();
    let rot_names: Vec<String> = (0..rotator.len()).map(rot_env).collect();
    for name in (0..provisioner.len()).map(env_for).chain(rot_names.clone()) {
        sent.push(suite.request(&name));
        names.push(name);
    }
    let teardowns: Vec<String> = provisioner
        .iter()
        .enumerate()
        .filter(|(_, p)| p.starts_with("teardown:"))
        .map(|(i, _)| env_for(i))
        .collect();
    suite.wait_ready(&teardowns, variant.settle);
    suite.wait_ready(&rot_names, variant.settle);
    for name in &teardowns {
        sent.push(suite.teardown(name));
    }
    for name in &rot_names {
        sent.push(suite.rotate(name));
    }
    // The backup's points, armed once r0 is ready (its backup is the only one here).
    let backup_points: Vec<crasher::Point> = runner_points(variant.all_points)
        .into_iter()
        .map(|p| (rot_names[0].clone(), p))
        .collect();
    crasher::arm(&runner_exe, &runner_dir, "backup-runner", &backup_points);
    let crash_runner = tokio::task::spawn_blocking(move || {
        crasher::run(
            &runner_exe,
            &runner_dir,
            "backup-runner",
            backup_points,
            deadline,
        )
    });
    sent.push(suite.backup(&rot_names[0]));
    sent.push(suite.budget(&period(1), 85.0).await);
    suite.kill_and_restart("budget-guard");
    let provisioner_kills = crash_provisioner.await.unwrap();
    let rotator_kills = crash_rotator.await.unwrap();
    let runner_kills = crash_runner.await.unwrap();
    suite.stack.refresh();
    for (service, kills) in [
        ("env-provisioner", &provisioner_kills),
        ("secret-rotator", &rotator_kills),
        ("backup-runner", &runner_kills),
    ] {
        assert!(
            kills.missed.is_empty(),
            "{service}: points never reached: {:?}",
            kills.missed
        );
    }
    let fired = [&provisioner_kills, &rotator_kills, &runner_kills].map(|k| k.fired.len());
    let kills = fired.iter().sum::<usize>() + 1;
    let scenario = format!(
        "kill -9: {} crash points of env-provisioner, {} of secret-rotator, {} of \
         backup-runner, budget-guard once mid-delivery ({kills} kills)",
        fired[0], fired[1], fired[2]
    );
    suite.settle_since(nudges, &scenario, &sent, deadline).await
}

/// Scenario: PostgreSQL stopped right after a burst is published, for `down`, then started.
async fn postgres_stopped(suite: &mut Suite, variant: &Variant, names: &mut Vec<String>) -> Row {
    let nudges = suite.nudger.nudges();
    let ready: Vec<String> = (0..3).map(|i| format!("p{i}")).collect();
    let mut sent = Vec::new();
    for name in &ready {
        sent.push(suite.request(name));
        names.push(name.clone());
    }
    suite.wait_ready(&ready, variant.settle);
    for i in 3..6 {
        let name = format!("p{i}");
        sent.push(suite.request(&name));
        names.push(name);
    }
    sent.push(suite.rotate(&ready[0]));
    sent.push(suite.rotate(&ready[1]));
    sent.push(suite.teardown(&ready[2]));
    sent.push(suite.backup(&ready[1]));
    sent.push(suite.budget(&period(2), 60.0).await);
    let (exe, dir) = (suite.exe.clone(), suite.stack.dir.clone());
    crasher::groundskeeper(&exe, &dir, &["local", "stop", "postgres"]);
    tokio::time::sleep(variant.postgres_down).await;
    crasher::groundskeeper(&exe, &dir, &["local", "start", "postgres"]);
    suite.stack.refresh();
    let scenario = format!(
        "PostgreSQL stopped {} s mid-burst",
        variant.postgres_down.as_secs()
    );
    let deadline = Instant::now() + variant.settle;
    suite.settle_since(nudges, &scenario, &sent, deadline).await
}

/// Scenario: the emulator restarted mid-burst. It keeps messages in memory only, so what it
/// held is gone with it — including a delivery already past its outcome event but not yet
/// acknowledged, whose environment then stays half-made until the request comes again. An
/// operator cannot tell which those were, so after applying the plumbing again
/// (`local start pubsub-emulator` runs the bootstrap) the whole burst is sent again: safe
/// because every handler is idempotent, which the state checks then hold it to.
async fn emulator_restarted(suite: &mut Suite, variant: &Variant, names: &mut Vec<String>) -> Row {
    let nudges = suite.nudger.nudges();
    let mut sent = Vec::new();
    for i in 0..6 {
        let name = format!("e{i}");
        sent.push(suite.request(&name));
        names.push(name);
    }
    let (exe, dir) = (suite.exe.clone(), suite.stack.dir.clone());
    crasher::groundskeeper(&exe, &dir, &["local", "stop", "pubsub-emulator"]);
    crasher::groundskeeper(&exe, &dir, &["local", "start", "pubsub-emulator"]);
    suite.stack.refresh();
    let burst: Vec<String> = sent.iter().map(|e| e.subject.clone()).collect();
    for name in &burst {
        suite.request(name);
    }
    // The outcomes of the first sending may all have been seen: wait for the state instead.
    suite.wait_ready(&burst, variant.settle);
    let scenario = format!(
        "Pub/Sub emulator restarted mid-burst (what it held is lost with it: all {} sent again)",
        sent.len()
    );
    let deadline = Instant::now() + variant.settle;
    suite.settle_since(nudges, &scenario, &sent, deadline).await
}
/// Scenario: the object store's disk fills up while a backup writes its dump (a real tmpfs
/// of 64 MiB, filled but for 256 KiB), stays full for a while, then has room again.
async fn disk_full(suite: &mut Suite, variant: &Variant, names: &mut Vec<String>) -> Row {
    let nudges = suite.nudger.nudges();
    let name = "d0".to_owned();
    let mut sent = vec![suite.request(&name)];
    names.push(name.clone());
    suite.wait_ready(std::slice::from_ref(&name), variant.settle);
    // About 10 MB of incompressible rows: more than the room left.
    let secrets = LocalSecretStore::new(suite.control.clone());
    let mut conn = accounting::connect(&secrets, &name).await.unwrap();
    sqlx::query(
        "CREATE TABLE filler AS SELECT md5(random()::text) || md5(random()::text) AS noise \
         FROM generate_series(1, 150000)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::Connection::close(conn).await.unwrap();
    let filled = suite.tmpfs.as_ref().unwrap().fill(256);
    let log = suite.stack.dir.join("logs/backup-runner.log");
    let before = std::fs::read_to_string(&log).unwrap_or_default().len();
    sent.push(suite.backup(&name));
    let deadline = Instant::now() + Duration::from_secs(60);
    let full = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text[before.min(text.len())..].contains("No space left on device") {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if !full {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail = &text[before.min(text.len())..];
        panic!("the backup never hit the full disk; backup-runner said:\n{tail}");
    }
    tokio::time::sleep(variant.disk_full).await;
    suite.tmpfs.as_ref().unwrap().free();
    let scenario = format!(
        "object store's disk (tmpfs) full during a backup for {} s ({} MiB of filler)",
        variant.disk_full.as_secs(),
        filled >> 20
    );
    let deadline = Instant::now() + variant.settle;
    suite.settle_since(nudges, &scenario, &sent, deadline).await
}

async fn run(variant: &Variant) {
    let mut suite = Suite::start().await;
    let mut names = Vec::new();
    let mut rows = vec![crash_points(&mut suite, variant, &mut names).await];
    rows.push(postgres_stopped(&mut suite, variant, &mut names).await);
    match &suite.tmpfs {
        Ok(_) => rows.push(disk_full(&mut suite, variant, &mut names).await),
        Err(why) => println!("disk full: not run, no tmpfs here ({why})"),
    }
    if variant.emulator_restart {
        rows.push(emulator_restarted(&mut suite, variant, &mut names).await);
    }
    // The state behind every environment of the suite, on the last row's account and
    // repeated in each row's own scenario by name prefix.
    for row in &mut rows {
        let prefix = match row.scenario.split(':').next().unwrap() {
            "kill -9" => ['k', 'r'].as_slice(),
            s if s.starts_with("PostgreSQL") => &['p'],
            s if s.starts_with("object store") => &['d'],
            _ => &['e'],
        };
        let mine: Vec<String> = names
            .iter()
            .filter(|n| prefix.contains(&n.chars().next().unwrap()))
            .cloned()
            .collect();
        check_environments(&suite.control, &suite.admin, &mine, &suite.versions, row).await;
    }
    let passwords = suite.passwords(&names).await;
    let dead_letters: Vec<String> = suite
        .collector
        .seen()
        .iter()
        .filter(|m| m.subscription.ends_with("-dead-letter-sub"))
        .map(|m| format!("{:?} {}", m.attributes, m.text()))
        .collect();
    let outputs: Vec<&str> = suite
        .outputs
        .iter()
        .chain(&dead_letters)
        .map(String::as_str)
        .collect();
    assert!(!passwords.is_empty(), "the scan has passwords to look for");
    leaks::assert_no_secret_leaked(&suite.stack.dir, &passwords, &outputs);
    // Shown only now that they are known to hold no secret: what was dead-lettered and why.
    for letter in &dead_letters {
        println!("dead letter: {letter}");
    }
    accounting::render(&rows, variant.name);
    for row in &rows {
        println!("{}", row.render());
        assert!(row.clean(), "{row:#?}");
    }
    suite.control.close().await;
    suite.admin.close().await;
    drop(suite.tmpfs);
    suite.stack.down_and_check();
}

/// Not in `make test` (it needs the whole stack for itself, minutes of it): CI runs it as
/// `make chaos-short`, after `make test`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes of the whole stack: run by `make chaos-short` (CI)"]
async fn the_stack_accounts_for_every_event_under_kills_and_a_database_outage() {
    run(&SHORT).await;
}

/// `make chaos`: every crash point, PostgreSQL down 30 s, the emulator restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by `make chaos`"]
async fn the_stack_accounts_for_every_event_under_every_fault() {
    run(&LONG).await;
}

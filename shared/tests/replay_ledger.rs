//! A real `replay` goes through the idempotency ledger like a delivery: replaying an event
//! that was already handled is a duplicate unless the operator forces it.

mod support;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use clap::Parser;
use shared::{config::RuntimeConfig, env::Env, replay::ReplayArgs};
use support::{counting_handler, ping};
use testbed::Postgres;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    replay: ReplayArgs,
}

async fn replay(config: &RuntimeConfig, runs: &Arc<AtomicUsize>, args: &[&str]) {
    let cli = Cli::try_parse_from(std::iter::once("replay").chain(args.iter().copied()))
        .expect("replay arguments");
    let code = shared::replay::replay(counting_handler(runs.clone()), config.clone(), cli.replay)
        .await
        .expect("replay runs");
    assert_eq!(code, std::process::ExitCode::SUCCESS);
}

#[tokio::test]
async fn a_real_replay_of_a_handled_event_is_a_duplicate_unless_forced() {
    let postgres = Postgres::start().await;
    let url = postgres.fresh_database().await;
    // The deploy migrates (`SERVICE migrate`); replay, like serving, does not.
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    shared::migrations::MIGRATOR
        .run(&pool)
        .await
        .expect("migrate");
    pool.close().await;
    let env = Env::from_pairs([
        ("DATABASE_URL", url),
        // Never contacted: the ping publishes nothing.
        ("PUBSUB_EMULATOR_HOST", "127.0.0.1:9".to_owned()),
    ]);
    let config = RuntimeConfig::from_env(&env, "replay-test").expect("config");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("delivery.json");
    std::fs::write(&file, ping("done", "replayed-1")).expect("write delivery");
    let file = file.to_str().expect("utf-8 path");
    let runs = Arc::new(AtomicUsize::new(0));

    replay(&config, &runs, &["--file", file]).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the first replay runs the event"
    );
    replay(&config, &runs, &["--file", file]).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "a second replay is a duplicate, recorded by the ledger"
    );
    replay(&config, &runs, &["--file", file, "--force"]).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2, "--force runs it again");
}

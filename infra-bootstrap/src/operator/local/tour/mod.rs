//! `local demo`'s scripted tour, printed as a timeline with the time since it began:
//! request an environment (tier dev), use its credentials, back it up and seed a new
//! environment from that backup (its row counts read with its own credentials), rotate its
//! credentials under a connecting client, see budget-guard suspend its database when the dev
//! budget's spend crosses 80 % and restore it in the next period, see a malformed request
//! dead-lettered with its reason, tear the environment down.
//! Everything goes through the running stack — published events, push deliveries, the
//! follow-up events on the watch subscription — as a user's own commands would.

mod backup;
mod budget;
mod connect;
mod rotate;
mod steps;
mod watch;
#[cfg(test)]
mod watch_tests;

use std::path::Path;
use std::time::Instant;

use crate::desired::dead_letter_subscription;
use crate::operator::backup::open_store;
use crate::operator::stack::StackState;
use crate::operator::target::Target;

pub use steps::Tour;

/// The timeline: one line per step, `+SECONDS` since the tour began.
pub struct Timeline(Instant);

impl Timeline {
    /// `→` something we did, `←` something the stack did, `✓` something we checked.
    pub fn say(&self, mark: &str, what: impl std::fmt::Display) {
        println!(
            "{:>7}  {mark} {what}",
            format!("+{:.1}s", self.0.elapsed().as_secs_f32())
        );
    }
}

/// Runs the tour on the stack of `state` with a fresh environment name.
pub async fn run(state: &StackState) -> anyhow::Result<()> {
    let name = format!("demo-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let events = state
        .events_subscription
        .as_deref()
        .unwrap_or(super::WATCH_SUBSCRIPTION);
    let host = &state.pubsub_emulator_host;
    let target = Target::local(state.clone());
    let admin_url = state.postgres_admin_url.clone().unwrap_or_default();
    let objects_url = state.object_store_url.clone().unwrap_or_default();
    let tour = Tour {
        name: name.parse().map_err(|e| anyhow::anyhow!("{e}"))?,
        publisher: target.publisher()?,
        secrets: target.secrets().await?,
        events: watch::Watch::new(host, &state.project, events, true),
        dead_letters: watch::Watch::new(
            host,
            &state.project,
            &dead_letter_subscription("env-provisioner"),
            false,
        ),
        admin: sqlx::PgPool::connect(&admin_url).await?,
        control: target.control_db().await?,
        objects: open_store(&objects_url, None).await?,
        at: Timeline(Instant::now()),
    };
    println!("\nThe tour: environment {name}, through the local stack\n");
    let ready = tour.request().await?;
    tour.use_credentials(&ready).await?;
    tour.backup(&ready).await?;
    tour.rotate(&ready).await?;
    tour.budget(&ready).await?;
    tour.malformed().await?;
    tour.teardown(&ready).await?;
    Ok(())
}

/// What to do next, after the tour.
pub fn usage(dir: &Path) {
    println!(
        "\nThe stack keeps running (state in {}). Try:\n\
         \x20 groundskeeper env request my-env --owner me@example.com --ttl 2h\n\
         \x20 groundskeeper env wait my-env && groundskeeper env credentials my-env\n\
         \x20 groundskeeper env list\n\
         \x20 groundskeeper secret rotate --environment my-env\n\
         \x20 groundskeeper backup now my-env && groundskeeper backup list my-env\n\
         \x20 groundskeeper budget status         # spend, level, what is suspended since when\n\
         \x20 groundskeeper local status          # components, addresses, process ids\n\
         \x20 groundskeeper local logs env-provisioner --follow\n\
         \x20 groundskeeper local down            # stop everything, remove the state",
        dir.display()
    );
}

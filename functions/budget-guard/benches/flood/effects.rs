//! Effects = unique events: after the flood, each side effect is counted where it lives (the
//! cluster's catalogs, the secret store, the fleet stub, what was published) and set against
//! the number of unique events that should cause it.

use crate::flood::mix::Mix;
use std::collections::BTreeSet;

use shared::backends::publisher::RecordingPublisher;

use crate::flood::services::{Services, DEV_SERVICES, ENV_DEAD_LETTERS, OTHER_DEAD_LETTERS};
use crate::stack::{APPLIED, DEAD_LETTERS, THRESHOLD};

const READY: &str = "dev.groundskeeper.environment.ready.v1";
const ROTATED: &str = "dev.groundskeeper.secret.rotated.v1";
const COMPLETED: &str = "dev.groundskeeper.backup.completed.v1";

/// One effect, counted, against the unique events behind it.
#[derive(Debug)]
pub struct Check {
    pub what: String,
    pub expected: i64,
    pub actual: i64,
}

impl Check {
    /// Whether the effect happened exactly as often as its events.
    pub fn holds(&self) -> bool {
        self.expected == self.actual
    }
}

/// Counts every effect of `mix` on `services`.
pub async fn count(services: &Services, mix: &Mix) -> Vec<Check> {
    let n = mix.environments.len() as i64;
    let admin = &services.stack.base.control;
    let scalar = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(admin)
            .await
            .expect("count")
    };
    // The standing environments were made ready before the flood: not its effects.
    let ready: Vec<String> = services
        .env_published
        .events()
        .into_iter()
        .filter(|(ty, ..)| ty == READY)
        .map(|(.., payload)| payload["name"].as_str().unwrap_or_default().to_owned())
        .filter(|name| name.starts_with("flood-"))
        .collect();
    let mut ready_names = ready.clone();
    ready_names.sort();
    ready_names.dedup();
    let emitted = |ty: &str| {
        services
            .stack
            .published
            .events()
            .iter()
            .filter(|(t, ..)| t == ty)
            .count() as i64
    };
    // A crossing applies the cap level once per period, and reports the notify level once.
    let once = i64::from(mix.crossings > 0);
    let mut checks = vec![
        check("databases", n, scalar("SELECT count(*) FROM pg_database WHERE datname LIKE 'env\\_flood\\_%'").await),
        check("owner roles", n, scalar("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'env\\_flood\\_%' AND NOT rolcanlogin").await),
        check("login roles", 2 * n, scalar("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'env\\_flood\\_%' AND rolcanlogin").await),
        check("credentials secrets", n, scalar("SELECT count(*) FROM control.secrets WHERE name LIKE '%flood-%-db-credentials'").await),
        check("credentials versions", n, scalar("SELECT count(*) FROM control.secret_versions WHERE secret LIKE '%flood-%-db-credentials'").await),
        check("environment.ready events", n, ready.len() as i64),
        check("environments made ready", n, ready_names.len() as i64),
        check("budget.threshold events", once, emitted(THRESHOLD)),
        check("downscale.applied events", once, emitted(APPLIED)),
    ];
    for i in 0..DEV_SERVICES {
        let service = format!("dev-{i}");
        let updates = services.stack.run.updates_of(&service) as i64;
        checks.push(check(
            &format!("Cloud Run updates of {service}"),
            once,
            updates,
        ));
    }
    // Each standing environment: rotated once (a second version of its secret), backed up
    // once (one dump, one manifest), each announced under one event id.
    let standing = mix.standing.len() as i64;
    let distinct = |published: &RecordingPublisher, ty: &str| {
        let ids: BTreeSet<String> = published
            .events()
            .into_iter()
            .filter(|(t, ..)| t == ty)
            .map(|(_, id, _)| id)
            .collect();
        ids.len() as i64
    };
    let objects = |suffix: &str| {
        walk(&services.objects.join("backups"))
            .iter()
            .filter(|p| p.ends_with(suffix))
            .count() as i64
    };
    checks.extend([
        check("rotated secrets' versions", 2 * standing, scalar("SELECT count(*) FROM control.secret_versions WHERE secret LIKE '%standing-%-db-credentials'").await),
        check("secret.rotated events", standing, distinct(&services.rotation_published, ROTATED)),
        check("backup dumps", standing, objects(".dump")),
        check("backup manifests", standing, objects(".manifest.json")),
        check("backup.completed events", standing, distinct(&services.backup_published, COMPLETED)),
    ]);
    let dead = services.env_published.messages_to(ENV_DEAD_LETTERS).len()
        + services.stack.published.messages_to(DEAD_LETTERS).len()
        + services
            .rotation_published
            .messages_to(OTHER_DEAD_LETTERS[0])
            .len()
        + services
            .backup_published
            .messages_to(OTHER_DEAD_LETTERS[1])
            .len();
    checks.push(check("dead letters", 0, dead as i64));
    checks
}

/// Every file under `dir`, recursively (none when it does not exist).
fn walk(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path.display().to_string()]
            }
        })
        .collect()
}

fn check(what: &str, expected: i64, actual: i64) -> Check {
    Check {
        what: what.to_owned(),
        expected,
        actual,
    }
}

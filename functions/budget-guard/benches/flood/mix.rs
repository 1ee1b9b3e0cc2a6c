//! What the flood sends, and why this mix.
//!
//! In production the volume comes from budget notifications: Cloud Billing publishes one per
//! budget several times an hour, and after an outage the push subscription releases its whole
//! backlog at once. They are cheap (decode, one journal read, mostly "below every level"),
//! and a few cross a level, which every replica then races to apply. So 60 % of the flood is
//! notifications of the dev budget: one in 20 over its cap ratio, the rest below every level,
//! and one in five a redelivery of the one before (same message id).
//!
//! The other 40 % are expensive and few, each pushed many times:
//! - 20 %: environment requests (a database, three roles, a secret, an object prefix each) —
//!   a CI pipeline re-publishing on timeout, and Pub/Sub redelivering while a slow first
//!   attempt still holds the name's lock. 20 environments (of 20 owners: the per-owner quota
//!   is 5) × 100 copies at 10 000 deliveries; nine in ten copies repeat the message id, one in
//!   ten is a re-publication under a new id, which only the handler's own idempotency
//!   recognises.
//! - 10 %: rotation requests of the standing environments' credentials (made before the
//!   flood), one per environment, every copy the same message id: a rotation asked again
//!   under a new id is a new rotation, so only redeliveries can be duplicates.
//! - 10 %: backup requests of the standing environments in this minute's window — the
//!   window's fan-out published again and redelivered: nine in ten copies repeat the id, one
//!   in ten is a new id, which the (database, window) key recognises.

use base64::Engine as _;
use chrono::{Datelike, DurationRound, TimeDelta, TimeZone, Utc};

use crate::stack::{ACCOUNT, DEV_BUDGET};

/// Which service a delivery is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// env-provisioner.
    Env,
    /// budget-guard.
    Budget,
    /// secret-rotator.
    Rotation,
    /// backup-runner.
    Backup,
}

impl Target {
    /// Every target, in the order the figures list them.
    pub const ALL: [Self; 4] = [Self::Env, Self::Budget, Self::Rotation, Self::Backup];
}

/// One push: where to, and the wrapped push envelope.
pub struct Delivery {
    pub target: Target,
    pub body: Vec<u8>,
}

/// The deliveries in firing order, and the unique events behind them.
pub struct Mix {
    pub deliveries: Vec<Delivery>,
    /// The environments requested (each once as a unique event).
    pub environments: Vec<String>,
    /// The environments made before the flood, each rotated once and backed up once.
    pub standing: Vec<String>,
    /// Whether some notification crosses the dev budget's cap (one level, applied once).
    pub crossings: usize,
}

impl Mix {
    /// `n` deliveries: 20 % environment requests, 10 % rotations, 10 % backups, 60 % budget
    /// notifications, shuffled.
    pub fn new(n: usize) -> Self {
        let env_share = n / 5;
        let (rotation_share, backup_share) = (n / 10, n / 10);
        let standing: Vec<String> = (0..(n / 1000).clamp(1, 10))
            .map(|i| format!("standing-{i}"))
            .collect();
        let environments: Vec<String> = (0..(n / 500).clamp(1, 20))
            .map(|i| format!("flood-{i}"))
            .collect();
        let mut deliveries = Vec::with_capacity(n);
        for k in 0..env_share {
            let i = k % environments.len();
            let copy = k / environments.len();
            let id = if copy % 10 == 9 {
                format!("env-{i}-again-{copy}")
            } else {
                format!("env-{i}")
            };
            let data = environment_request(&environments[i], i);
            deliveries.push(Delivery {
                target: Target::Env,
                body: envelope(&id, &data, cloud_event(&id, REQUESTED)),
            });
        }
        for k in 0..rotation_share {
            let i = k % standing.len();
            let id = format!("rotation-{i}");
            let data = serde_json::json!({ "environment": standing[i], "reason": "flood" });
            deliveries.push(Delivery {
                target: Target::Rotation,
                body: envelope(&id, &data, cloud_event(&id, ROTATION)),
            });
        }
        let window = Utc::now()
            .duration_trunc(TimeDelta::minutes(1))
            .expect("a minute");
        for k in 0..backup_share {
            let (i, copy) = (k % standing.len(), k / standing.len());
            let id = if copy % 10 == 9 {
                format!("backup-{i}-again-{copy}")
            } else {
                format!("backup-{i}")
            };
            let data = serde_json::json!({ "environment": standing[i], "window": window });
            deliveries.push(Delivery {
                target: Target::Backup,
                body: envelope(&id, &data, cloud_event(&id, BACKUP)),
            });
        }
        let period = {
            let now = Utc::now();
            Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
                .single()
                .expect("first of the month")
        };
        let mut crossings = 0;
        for j in 0..n - env_share - rotation_share - backup_share {
            // One in five is a redelivery of the previous notification: same id, same body.
            let source = if j % 5 == 4 { j - 1 } else { j };
            let over = source % 20 == 7;
            crossings += usize::from(over && source == j);
            let cost = if over {
                85.0
            } else {
                10.0 + (source % 35) as f64
            };
            let data = serde_json::json!({
                "budgetDisplayName": "groundskeeper-dev", "costAmount": cost,
                "costIntervalStart": period.to_rfc3339(), "budgetAmount": 100.0,
                "budgetAmountType": "SPECIFIED_AMOUNT", "currencyCode": "EUR",
            });
            let attributes = serde_json::json!({
                "billingAccountId": ACCOUNT, "budgetId": DEV_BUDGET, "schemaVersion": "1.0",
            });
            deliveries.push(Delivery {
                target: Target::Budget,
                body: envelope(&format!("bn-{source}"), &data, attributes),
            });
        }
        shuffle(&mut deliveries);
        Self {
            deliveries,
            environments,
            standing,
            crossings,
        }
    }
}

/// `environment.requested`.
pub const REQUESTED: &str = "dev.groundskeeper.environment.requested.v1";
const ROTATION: &str = "dev.groundskeeper.rotation.requested.v1";
const BACKUP: &str = "dev.groundskeeper.backup.requested.v1";

/// The CloudEvents attributes of event `id` of type `ty`, as the CLI publishes it.
pub fn cloud_event(id: &str, ty: &str) -> serde_json::Value {
    serde_json::json!({
        "ce-type": ty, "ce-source": "//groundskeeper/cli", "ce-id": id, "ce-specversion": "1.0",
    })
}

/// The request for environment `name` of owner `i` (the per-owner quota is not under test).
pub fn environment_request(name: &str, i: usize) -> serde_json::Value {
    serde_json::json!({
        "name": name, "owner": format!("ci-{i}@example.com"), "tier": "ephemeral", "ttl": "2h",
    })
}

/// A Pub/Sub push body (wrapped form).
pub fn envelope(id: &str, data: &serde_json::Value, attributes: serde_json::Value) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data.to_string());
    serde_json::to_vec(&serde_json::json!({
        "message": {
            "data": encoded, "attributes": attributes, "messageId": id,
            "publishTime": Utc::now().to_rfc3339(),
        },
        "subscription": "projects/flood/subscriptions/flood-push",
    }))
    .expect("serialisable")
}

/// A fixed-seed Fisher–Yates shuffle (xorshift): the same order on every run.
fn shuffle<T>(items: &mut [T]) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = usize::try_from(state % (i as u64 + 1)).expect("index fits");
        items.swap(i, j);
    }
}

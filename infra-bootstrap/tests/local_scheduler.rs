//! The local scheduler against the emulator: fires at cron time (test clock), `run-job`
//! publishes at once, and the message decodes as our typed event.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use infra_bootstrap::manifest::Manifest;
use infra_bootstrap::scheduler::local::{Clock, LocalScheduler};
use shared::backends::publisher::PubsubPublisher;
use testbed::{PubsubEmulator, PulledMessage};

/// A clock whose sleeps return at once, having moved time forward.
struct TestClock(Mutex<DateTime<Utc>>);

#[async_trait]
impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
    async fn sleep_until(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }
}

async fn setup() -> (PubsubEmulator, Manifest, LocalScheduler) {
    let emu = PubsubEmulator::start().await;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/local.toml"))
            .expect("local.toml");
    let mut manifest = Manifest::parse(&text).expect("valid");
    manifest.project = emu.project().to_owned();
    for topic in ["rotation-due", "backup-window", "environment-requests"] {
        emu.create_topic(topic).await;
        emu.create_pull_subscription(topic, &format!("{topic}-watch"))
            .await;
    }
    let publisher =
        Arc::new(PubsubPublisher::new(emu.project(), Some(&emu.host())).expect("publisher"));
    let scheduler = LocalScheduler::new(&manifest, publisher).expect("scheduler");
    (emu, manifest, scheduler)
}

/// The pulled message as Pub/Sub would push it, decoded by the services' own decoder.
fn decode<T: events::Payload>(msg: &PulledMessage) -> events::Event<T> {
    let body = serde_json::json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(&msg.data),
            "attributes": msg.attributes,
            "messageId": msg.message_id,
            "publishTime": "2026-01-01T02:00:00Z",
        },
        "subscription": "projects/p/subscriptions/s",
    });
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    let raw = events::delivery::decode(&headers, body.to_string().as_bytes()).expect("decodes");
    raw.typed::<T>().expect("typed")
}

#[tokio::test]
async fn fires_each_job_at_its_cron_time() {
    let (emu, _, scheduler) = setup().await;
    let start = Utc
        .with_ymd_and_hms(2026, 3, 1, 1, 59, 30)
        .single()
        .expect("time");
    let clock = TestClock(Mutex::new(start));
    let end = Utc
        .with_ymd_and_hms(2026, 3, 1, 3, 0, 30)
        .single()
        .expect("time");
    let fired = scheduler.run(&clock, Some(end)).await.expect("run");
    let two = Utc
        .with_ymd_and_hms(2026, 3, 1, 2, 0, 0)
        .single()
        .expect("time");
    let three = Utc
        .with_ymd_and_hms(2026, 3, 1, 3, 0, 0)
        .single()
        .expect("time");
    let got: BTreeMap<(String, DateTime<Utc>), ()> =
        fired.iter().map(|f| ((f.job.clone(), f.at), ())).collect();
    let want: BTreeMap<(String, DateTime<Utc>), ()> = [
        ("rotation-sweep", two),
        ("environment-ttl-sweep", two),
        ("backup-window", three),
        ("environment-ttl-sweep", three),
    ]
    .into_iter()
    .map(|(j, t)| ((j.to_owned(), t), ()))
    .collect();
    assert_eq!(got, want);

    let rotation = emu
        .pull("rotation-due-watch", 2, std::time::Duration::from_secs(3))
        .await;
    assert_eq!(
        rotation.len(),
        1,
        "one rotation sweep between 01:59:30 and 03:00:30"
    );
    assert_eq!(
        rotation[0].attributes["ce-id"],
        "rotation-sweep/2026-03-01T02:00:00Z"
    );
    let event = decode::<events::rotation::RotationDue>(&rotation[0]);
    assert_eq!(event.ty, events::types::ROTATION_DUE);
    let backup = emu
        .pull("backup-window-watch", 2, std::time::Duration::from_secs(3))
        .await;
    assert_eq!(backup.len(), 1);
    assert_eq!(
        decode::<events::backup::BackupWindow>(&backup[0]).ty,
        events::types::BACKUP_WINDOW
    );
}

#[tokio::test]
async fn run_job_publishes_at_once_and_decodes_as_the_typed_event() {
    let (emu, _, scheduler) = setup().await;
    let fired = scheduler
        .run_job("environment-ttl-sweep", Utc::now())
        .await
        .expect("run-job");
    let pulled = emu
        .pull(
            "environment-requests-watch",
            1,
            std::time::Duration::from_secs(5),
        )
        .await;
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].message_id, fired.message_id);
    let event = decode::<events::environment::TtlSweep>(&pulled[0]);
    assert_eq!(
        event.source,
        "//groundskeeper/scheduler/environment-ttl-sweep"
    );
    assert!(scheduler.run_job("no-such-job", Utc::now()).await.is_err());
}

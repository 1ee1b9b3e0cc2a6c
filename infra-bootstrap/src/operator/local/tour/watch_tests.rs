//! The events watch against the real emulator: an event that arrives while the tour waits
//! for another one is still there when a later step looks for it.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::BTreeMap;
use std::time::Duration;

use testbed::PubsubEmulator;

use super::watch::{Pulled, Watch};

/// A bound for each wait, not a measurement: the messages are published before it starts.
const WAIT: Duration = Duration::from_secs(20);

fn text(m: &Pulled) -> String {
    String::from_utf8_lossy(&m.data).into_owned()
}

#[tokio::test]
async fn an_event_passed_over_while_waiting_for_another_is_found_by_the_next_wait() {
    let emulator = PubsubEmulator::start().await;
    emulator.create_topic("events").await;
    emulator.create_pull_subscription("events", "watch").await;
    // As with a seeded environment: `backup.restored` is published before `ready`, and a
    // step waits for `ready` first. Two `ready`s: a second match in the same pull is kept too.
    for data in ["restored", "ready 1", "ready 2"] {
        emulator
            .publish("events", data.as_bytes(), &BTreeMap::new())
            .await;
    }
    let watch = Watch::new(&emulator.host(), emulator.project(), "watch", true);

    let ready = watch.next(WAIT, |m| text(m).starts_with("ready")).await;
    assert_eq!(text(&ready.unwrap()), "ready 1");
    let restored = watch.next(WAIT, |m| text(m) == "restored").await;
    assert_eq!(
        text(&restored.expect("the event pulled while waiting for `ready` is kept")),
        "restored"
    );
    let again = watch.next(WAIT, |m| text(m).starts_with("ready")).await;
    assert_eq!(text(&again.unwrap()), "ready 2");
    // What the watch kept it also acknowledged: nothing is redelivered to the subscription.
    assert!(emulator
        .pull("watch", 1, Duration::from_secs(12))
        .await
        .is_empty());
}

//! The flood's CI-sized variant (issue 14, section 3): 500 push deliveries of the bench's mix
//! (`benches/flood/mix.rs`) across three replicas of each of the four services at once,
//! and every effect happens exactly as often as its unique events. No timing is asserted; the
//! figures are the bench's (`make flood`).
#![allow(clippy::unwrap_used)]

#[allow(dead_code)] // the figures are the bench's; this test reads only the effects
#[path = "../benches/flood/mod.rs"]
mod flood;
mod stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_deliveries_at_once_cause_exactly_their_unique_events_effects() {
    let run = flood::run(500, 64).await;
    assert_eq!(run.fired.unsettled, 0, "{:?}", run.fired.statuses);
    let wrong: Vec<_> = run.checks.iter().filter(|c| !c.holds()).collect();
    assert!(wrong.is_empty(), "effects ≠ unique events: {wrong:#?}");
    // The mix has what the checks count: environments, and a crossing of the cap.
    assert!(run
        .checks
        .iter()
        .any(|c| c.what == "databases" && c.expected >= 1));
    assert!(run
        .checks
        .iter()
        .any(|c| c.what == "downscale.applied events" && c.expected == 1));
    assert!(run
        .checks
        .iter()
        .any(|c| c.what == "backup dumps" && c.expected >= 1));
}

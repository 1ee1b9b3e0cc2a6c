//! More concurrent deliveries than the control pool has connections (Cloud Run concurrency
//! 8, a pool of 8 built like production's): every one completes, none waits on another's
//! connection.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::sync::Arc;

use shared::Outcome;
use support::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_requests_for_different_names_all_complete_on_a_pool_of_eight() {
    let stack = Arc::new(Stack::start(&[("MAX_ENVIRONMENTS_PER_OWNER", "100")]).await);
    assert_eq!(stack.control.options().get_max_connections(), 8);
    let deliveries = (0..10).map(|i| {
        let stack = stack.clone();
        tokio::spawn(async move {
            stack
                .request_env(&format!("r{i}"), &format!("pool{i}"))
                .await
        })
    });
    for (i, outcome) in futures::future::join_all(deliveries)
        .await
        .into_iter()
        .enumerate()
    {
        let outcome = outcome.unwrap();
        assert!(matches!(outcome, Ok(Outcome::Done)), "pool{i}: {outcome:?}");
    }
}

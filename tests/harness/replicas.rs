//! [`push_copies`]: one message pushed many times at once across the replicas of a service,
//! as Pub/Sub does once Cloud Run has scaled it out, with every copy pushed again until it is
//! acked, the way a push subscription redelivers a 5xx.
//!
//! Generic over what a push returns so it stays free of the runtime's types (see
//! [`crate::ServiceStack`] for why this crate does not depend on `shared`).

use std::future::Future;
use std::time::Duration;

/// Rounds after which a copy still told to retry fails the test: the delivery never settles.
const MAX_ROUNDS: usize = 1_000;

/// Pushes copies `0..copies` concurrently, copy `c` to replica `(c + round) % replicas`
/// (Pub/Sub picks any instance, and a redelivery need not land where the first push did),
/// and pushes again, after a short pause, every copy for which `retry` holds. Returns each
/// copy's final answer, by copy.
///
/// # Panics
///
/// When some copy is still told to retry after [`MAX_ROUNDS`] rounds.
pub async fn push_copies<D, F, Fut>(
    copies: usize,
    replicas: usize,
    push: F,
    retry: impl Fn(&D) -> bool,
) -> Vec<D>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = D>,
{
    let mut settled: Vec<Option<D>> = (0..copies).map(|_| None).collect();
    let mut pending: Vec<usize> = (0..copies).collect();
    for round in 0..MAX_ROUNDS {
        if pending.is_empty() {
            break;
        }
        let answers = futures::future::join_all(
            pending
                .iter()
                .map(|&copy| push((copy + round) % replicas.max(1), copy)),
        )
        .await;
        let mut again = Vec::new();
        for (copy, answer) in pending.into_iter().zip(answers) {
            if retry(&answer) {
                again.push(copy);
            } else {
                settled[copy] = Some(answer);
            }
        }
        pending = again;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(
        pending.is_empty(),
        "{} copies still retrying after {MAX_ROUNDS} rounds",
        pending.len()
    );
    settled.into_iter().flatten().collect()
}

//! Fires the mix at the replicas from `concurrency` workers, as a push subscription with that
//! many outstanding pushes would: each delivery goes to a replica round-robin; an answer that
//! is not 2xx (retry) is pushed again after a short backoff, to the next replica, until acked.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::flood::mix::{Mix, Target};
use crate::flood::services::Services;

/// Pushes of one delivery after which it counts as never acked.
const MAX_ATTEMPTS: usize = 500;
/// Before pushing a retried delivery again (Pub/Sub's minimum backoff is 10 s; shorter here
/// so the flood's length measures the services, not the wait).
const BACKOFF: Duration = Duration::from_millis(50);

/// What the load generator saw.
#[derive(Debug, Default)]
pub struct Fired {
    /// Deliveries in the mix.
    pub deliveries: usize,
    /// From the first push to the last ack.
    pub wall: Duration,
    /// Every push's latency, by target.
    pub latencies: BTreeMap<Target, Vec<Duration>>,
    /// Answers by HTTP status (0: no answer).
    pub statuses: BTreeMap<u16, usize>,
    /// Deliveries still not acked after [`MAX_ATTEMPTS`] pushes.
    pub unsettled: usize,
}

impl Fired {
    /// Acked deliveries per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.deliveries as f64 / self.wall.as_secs_f64()
    }

    /// Pushes beyond the first of each delivery.
    pub fn repushes(&self) -> usize {
        self.statuses.values().sum::<usize>() - self.deliveries
    }

    /// The `q` quantile of push latency, over `target` or (None) every push.
    pub fn quantile(&self, target: Option<Target>, q: f64) -> Duration {
        let mut all: Vec<Duration> = self
            .latencies
            .iter()
            .filter(|(t, _)| target.is_none_or(|want| **t == want))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        all.sort();
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }
}

/// Fires every delivery of `mix` and returns once each is acked (or given up on).
pub async fn fire(services: &Services, mix: &Mix, concurrency: usize) -> Fired {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("HTTP client");
    let queue: Mutex<VecDeque<(usize, usize)>> =
        Mutex::new((0..mix.deliveries.len()).map(|i| (i, 0)).collect());
    let outstanding = AtomicUsize::new(mix.deliveries.len());
    let fired = Mutex::new(Fired {
        deliveries: mix.deliveries.len(),
        ..Fired::default()
    });
    let shared = Arc::new((queue, outstanding, fired));
    let start = Instant::now();
    let workers = (0..concurrency.max(1)).map(|_| {
        let (client, shared) = (client.clone(), shared.clone());
        let urls = services.urls.clone();
        async move { worker(&client, &shared, &urls, mix).await }
    });
    futures::future::join_all(workers).await;
    let (_, _, fired) = Arc::into_inner(shared).expect("workers done");
    let mut fired = fired.into_inner().expect("not poisoned");
    fired.wall = start.elapsed();
    fired
}

type Shared = (Mutex<VecDeque<(usize, usize)>>, AtomicUsize, Mutex<Fired>);

async fn worker(
    client: &reqwest::Client,
    shared: &Shared,
    urls: &BTreeMap<Target, Vec<String>>,
    mix: &Mix,
) {
    let (queue, outstanding, fired) = shared;
    loop {
        let next = queue.lock().expect("not poisoned").pop_front();
        let Some((index, attempt)) = next else {
            if outstanding.load(Ordering::Acquire) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        };
        let delivery = &mix.deliveries[index];
        let urls = &urls[&delivery.target];
        let url = &urls[(index + attempt) % urls.len()];
        let pushed = Instant::now();
        let status = client
            .post(url)
            .header("content-type", "application/json")
            .body(delivery.body.clone())
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        let took = pushed.elapsed();
        {
            let mut fired = fired.lock().expect("not poisoned");
            fired
                .latencies
                .entry(delivery.target)
                .or_default()
                .push(took);
            *fired.statuses.entry(status).or_default() += 1;
        }
        if (200..300).contains(&status) {
            outstanding.fetch_sub(1, Ordering::AcqRel);
        } else if attempt + 1 >= MAX_ATTEMPTS {
            fired.lock().expect("not poisoned").unsettled += 1;
            outstanding.fetch_sub(1, Ordering::AcqRel);
        } else {
            // Pub/Sub backs off before redelivering; the worker waits with it.
            tokio::time::sleep(BACKOFF).await;
            queue
                .lock()
                .expect("not poisoned")
                .push_back((index, attempt + 1));
        }
    }
}

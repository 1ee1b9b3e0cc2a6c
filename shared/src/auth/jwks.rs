//! Google's token-signing keys, fetched on first use and cached.
//!
//! Reads take a snapshot without waiting. Fetches are single-flight: one async mutex
//! serialises them, and whoever waited on it re-checks the snapshot first, so a burst of
//! deliveries at start-up or at expiry costs one request. The cache lives as long as the
//! response's `Cache-Control: max-age` says (one hour without it). A token naming an unknown
//! key triggers one early refetch — Google publishes keys before signing with them — but at
//! most once per [`UNKNOWN_KID_REFETCH_INTERVAL`], so a flood of junk key ids cannot turn
//! into a flood of requests to Google. A failed fetch is remembered for [`FAILURE_BACKOFF`]
//! for the same reason; meanwhile expired keys are still used, because Google keeps keys
//! valid well past the cache lifetime and an outage of its key endpoint should not stop us.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

use super::AuthError;

/// Cache lifetime when the response gives none.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
/// Minimum spacing of refetches caused by unknown key ids.
const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// How long a failed fetch is answered from memory instead of being retried.
const FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// Bounds one fetch; the delivery waiting on it has its own, longer, deadline.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One fetched key set.
struct KeySet {
    keys: HashMap<String, Arc<DecodingKey>>,
    expires_at: Instant,
    /// Increases with every fetch, so a waiter can tell whether someone refreshed meanwhile.
    generation: u64,
}

/// State only the fetching task touches (guarded by the single-flight mutex).
#[derive(Default)]
struct FetchState {
    /// Built on first fetch: building a TLS client at construction would slow start-up.
    client: Option<reqwest::Client>,
    generation: u64,
    last_unknown_kid_refetch: Option<Instant>,
    last_failure: Option<(Instant, String)>,
}

/// The cached key set of one JWKS URL.
pub(crate) struct Jwks {
    url: String,
    current: RwLock<Option<Arc<KeySet>>>,
    fetch: tokio::sync::Mutex<FetchState>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Jwks {
    pub(crate) fn new(url: String) -> Self {
        Jwks {
            url,
            current: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }

    /// The key with id `kid`, fetching or refetching the set as the rules above allow.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, AuthError> {
        let (set, just_fetched) = match self.snapshot() {
            Some(set) if !expired(&set) => (set, false),
            stale => {
                let seen = stale.map(|set| set.generation);
                (self.refresh_expired(seen).await?, true)
            }
        };
        if let Some(key) = set.keys.get(kid) {
            return Ok(Arc::clone(key));
        }
        let unknown = || AuthError::UnknownKey {
            kid: kid.to_owned(),
        };
        if just_fetched {
            // The set is as new as it gets; asking again at once would return the same.
            return Err(unknown());
        }
        let seen = set.generation;
        let mut state = self.fetch.lock().await;
        let latest = self.snapshot().unwrap_or(set);
        let may_refetch = state
            .last_unknown_kid_refetch
            .is_none_or(|at| at.elapsed() >= UNKNOWN_KID_REFETCH_INTERVAL);
        let set = if latest.generation != seen || !may_refetch {
            latest
        } else {
            state.last_unknown_kid_refetch = Some(Instant::now());
            self.fetch_and_store(&mut state).await?
        };
        set.keys.get(kid).cloned().ok_or_else(unknown)
    }

    fn snapshot(&self) -> Option<Arc<KeySet>> {
        // The guarded value is a single Arc, so poisoning cannot leave it half-written.
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A usable key set when the cache is empty or expired (`seen` is the generation the
    /// caller found): fetched, or stale if Google is down.
    async fn refresh_expired(&self, seen: Option<u64>) -> Result<Arc<KeySet>, AuthError> {
        let mut state = self.fetch.lock().await;
        let stale = self.snapshot();
        // Another caller fetched while we waited: share its result, even if `max-age` was 0.
        if let Some(set) = stale.as_ref().filter(|set| Some(set.generation) != seen) {
            return Ok(Arc::clone(set));
        }
        let recent_failure = state
            .last_failure
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FAILURE_BACKOFF)
            .map(|(_, reason)| reason.clone());
        let result = match recent_failure {
            Some(reason) => Err(AuthError::JwksUnavailable(reason)),
            None => self.fetch_and_store(&mut state).await,
        };
        // The failed fetch has been logged once; serving stale keys quietly avoids a log line
        // per delivery for the length of the outage.
        result.or_else(|error| stale.ok_or(error))
    }

    async fn fetch_and_store(&self, state: &mut FetchState) -> Result<Arc<KeySet>, AuthError> {
        match self.download(state).await {
            Ok((keys, max_age)) => {
                state.generation += 1;
                state.last_failure = None;
                tracing::debug!(url = %self.url, keys = keys.len(), ?max_age, "fetched signing keys");
                let set = Arc::new(KeySet {
                    keys,
                    expires_at: Instant::now() + max_age,
                    generation: state.generation,
                });
                *self
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&set));
                Ok(set)
            }
            Err(reason) => {
                tracing::warn!(url = %self.url, %reason, "cannot fetch signing keys (expired ones, if any, stay in use)");
                state.last_failure = Some((Instant::now(), reason.clone()));
                Err(AuthError::JwksUnavailable(reason))
            }
        }
    }

    async fn download(
        &self,
        state: &mut FetchState,
    ) -> Result<(HashMap<String, Arc<DecodingKey>>, Duration), String> {
        let client = match &state.client {
            Some(client) => client.clone(),
            None => {
                let client = reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .build()
                    .map_err(|e| format!("cannot build HTTP client: {e}"))?;
                state.client.insert(client).clone()
            }
        };
        let response = client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("GET {}: {e}", self.url))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {} answered {status}", self.url));
        }
        let max_age = max_age(response.headers());
        let body: RawKeySet = response
            .json()
            .await
            .map_err(|e| format!("GET {}: unreadable key set: {e}", self.url))?;
        let keys = usable_keys(body);
        if keys.is_empty() {
            return Err(format!(
                "GET {}: no RS256 signing keys in the set",
                self.url
            ));
        }
        Ok((keys, max_age))
    }
}

fn expired(set: &KeySet) -> bool {
    Instant::now() >= set.expires_at
}

/// Keys are read one by one so a key type this crate does not know cannot void the whole set.
#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

fn usable_keys(set: RawKeySet) -> HashMap<String, Arc<DecodingKey>> {
    set.keys
        .into_iter()
        .filter_map(|raw| serde_json::from_value::<Jwk>(raw).ok())
        .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_)))
        .filter(|jwk| matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)))
        .filter(|jwk| {
            matches!(
                jwk.common.public_key_use,
                None | Some(PublicKeyUse::Signature)
            )
        })
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            Some((kid, Arc::new(key)))
        })
        .collect()
}

/// Freshness lifetime per RFC 9111: `max-age` minus `Age`; `no-cache`/`no-store` mean none.
fn max_age(headers: &http::HeaderMap) -> Duration {
    let Some(cache_control) = headers
        .get(http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
    else {
        return DEFAULT_MAX_AGE;
    };
    let mut max_age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Duration::ZERO;
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            max_age = secs.trim_matches('"').parse::<u64>().ok();
        }
    }
    let Some(max_age) = max_age else {
        return DEFAULT_MAX_AGE;
    };
    let age = headers
        .get(http::header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_secs(max_age.saturating_sub(age))
}

//! A push subscription must keep redelivering for longer than a crashed instance's claim on
//! an event lasts.
//!
//! When an instance dies mid-delivery, its claim in the idempotency ledger holds until its
//! lease (`IDEMPOTENCY_LEASE_SECS`) runs out, and every redelivery meanwhile is answered
//! "in flight elsewhere" — which Pub/Sub counts as a failed attempt. Should the attempts run
//! out first, the event goes to the dead-letter topic instead of being resumed, and what it
//! had half-done stays half-done (seen in the fault suite: an environment left
//! `provisioning` after a kill -9). So the retry policy's window must outlast the lease.

use events::platform::ServiceSpec;
use shared::config::{DEFAULT_DELIVERY_TIMEOUT_SECS, LEASE_MARGIN_SECS};

use super::validate::{invalid, ManifestError};
use super::Mode;

/// The least time Pub/Sub keeps retrying a message before it dead-letters it: the sum of the
/// backoffs between `attempts` attempts. Pub/Sub documents only "exponential backoff between
/// min and max"; the formula is the emulator's (`MessageBacklog.computeBackoff` in
/// cloud-pubsub-emulator 0.8.20): retry `k` waits `0.4·min + min·1.3^k·j`, `j` random in
/// 0.6..1.0, at most `max`, with `min` raised to 1 s. The least value (`j` = 0.6) is used.
/// Growth by 1.3 per retry, not 2: five attempts at 10..600 s give up after about 53 s.
pub fn retry_window_secs(min_backoff: i64, max_backoff: i64, attempts: i32) -> i64 {
    let min = min_backoff.max(1) as f64;
    let max = (max_backoff as f64).max(min);
    let window: f64 = (0..attempts.saturating_sub(1))
        .map(|k| (0.4 * min + min * 1.3_f64.powi(k) * 0.6).min(max))
        .sum();
    window.floor() as i64
}

/// How long a claim of `service`'s holds where `mode` runs it: the registry's
/// `IDEMPOTENCY_LEASE_SECS` (or its delivery timeout plus the margin), else the runtime's
/// default.
pub fn lease_secs(service: &ServiceSpec, mode: Mode) -> i64 {
    let env = match mode {
        Mode::Google => service.deploy.env,
        Mode::Emulator => service.local.env,
    };
    let setting = |name: &str| {
        env.iter()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.parse::<u64>().ok())
    };
    let timeout = setting("DELIVERY_TIMEOUT_SECS").unwrap_or(DEFAULT_DELIVERY_TIMEOUT_SECS);
    let lease = setting("IDEMPOTENCY_LEASE_SECS").unwrap_or(timeout + LEASE_MARGIN_SECS);
    i64::try_from(lease).unwrap_or(i64::MAX)
}

/// Refuses a retry policy that gives up on `service`'s messages before a crashed instance's
/// claim expires; `field` names the service's attempts in errors.
pub fn check(
    field: &str,
    service: &ServiceSpec,
    mode: Mode,
    (min_backoff, max_backoff, attempts): (i64, i64, i32),
) -> Result<(), ManifestError> {
    let lease = lease_secs(service, mode);
    let window = retry_window_secs(min_backoff, max_backoff, attempts);
    if window > lease {
        return Ok(());
    }
    let needed = (attempts..=100).find(|n| retry_window_secs(min_backoff, max_backoff, *n) > lease);
    let advice = match needed {
        Some(n) => format!("raise it to at least {n}, or the backoff"),
        None => "raise min_backoff_secs / max_backoff_secs".to_owned(),
    };
    Err(invalid(
        field,
        format!(
            "{attempts} attempts with backoff {min_backoff}..{max_backoff} s give up after {window} s, \
             before a crashed instance's claim on a message expires ({lease} s, \
             IDEMPOTENCY_LEASE_SECS of {}): its in-flight events would be dead-lettered \
             instead of resumed; {advice}",
            service.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_grows_by_1_3_per_retry_up_to_the_maximum() {
        // 10 + 11.8 + 14.14 + 17.18
        assert_eq!(retry_window_secs(10, 600, 5), 53);
        // min 1: 1 + 1.18 + 1.41 + 1.72
        assert_eq!(retry_window_secs(1, 10, 5), 5);
        // Capped: min 10, max 12 → 10 + 11.8 + 12 + 12
        assert_eq!(retry_window_secs(10, 12, 5), 45);
        // min 0 is raised to 1 s, as Pub/Sub's emulator does.
        assert_eq!(retry_window_secs(0, 600, 3), 2);
        assert_eq!(retry_window_secs(10, 600, 1), 0);
    }

    #[test]
    fn the_lease_is_the_registry_s_or_the_runtime_default() {
        let provisioner = events::platform::service("env-provisioner").unwrap();
        let backups = events::platform::service("backup-runner").unwrap();
        assert_eq!(lease_secs(provisioner, Mode::Google), 80);
        assert_eq!(lease_secs(backups, Mode::Google), 1200);
        assert_eq!(lease_secs(backups, Mode::Emulator), 1200);
    }

    #[test]
    fn a_policy_that_gives_up_before_the_lease_names_what_to_raise() {
        let backups = events::platform::service("backup-runner").unwrap();
        let field = "service[backup-runner].max_delivery_attempts";
        let err = check(field, backups, Mode::Google, (10, 600, 5)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(field), "{text}");
        assert!(text.contains("give up after 53 s"), "{text}");
        assert!(text.contains("1200 s"), "{text}");
        assert!(text.contains("at least 17"), "{text}");
        check(field, backups, Mode::Google, (10, 600, 17)).unwrap();
        check(field, backups, Mode::Google, (10, 600, 16)).unwrap_err();
    }
}

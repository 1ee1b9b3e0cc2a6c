//! Crash points for tests (`shared::crash_point`, the `fault-injection` feature): a test arms
//! a point for one environment. The points are `STEP:before` / `STEP:after` around every
//! provisioning step (see `STEPS`), `ready:before` / `ready:after` around
//! `environment.ready`, and `teardown:before` / `teardown:after` around a teardown.

use events::names::EnvName;

/// Stops the handler at `point` for `env` once (tests only).
#[cfg(feature = "fault-injection")]
pub fn arm(env: &EnvName, point: &str) {
    shared::crash_point::arm(env.as_str(), point);
}

/// The injected crash if `point` is armed for `env` (and disarms it).
#[inline]
pub(crate) fn check(env: &EnvName, point: &str) -> Result<(), shared::crash_point::Injected> {
    shared::crash_point::check(env.as_str(), point)
}

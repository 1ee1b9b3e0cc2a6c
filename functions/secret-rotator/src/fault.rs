//! Crash points for tests (`shared::crash_point`, the `fault-injection` feature): a test arms
//! a point for one secret and the rotation stops there as if the process had died.

use shared::crash_point;

/// Every crash point, in the order a rotation passes them. `STEP:before` follows the record
/// of the step and precedes its side effect; `STEP:after` follows the side effect and
/// precedes the record of the next step; `create:added` and `finish:moved` sit inside.
pub const POINTS: [&str; 12] = [
    "check:before",
    "check:after",
    "create:before",
    "create:added",
    "create:after",
    "set:before",
    "set:after",
    "test:before",
    "test:after",
    "finish:before",
    "finish:moved",
    "finish:after",
];

/// Stops the rotation of `secret` at `point` once (tests only).
#[cfg(feature = "fault-injection")]
pub fn arm(secret: &str, point: &str) {
    crash_point::arm(secret, point);
}

/// Panics if `point` is armed for `secret` (and disarms it): the sweep's isolation test.
#[inline]
pub fn panic_if_armed(secret: &str, point: &str) {
    if crash_point::check(secret, point).is_err() {
        panic!("fault injected: panic at {point} for {secret}");
    }
}

//! Crash points for tests: with the `fault-injection` feature (enabled only by this crate's
//! dev-dependency on itself), a test arms a point for one secret and the rotation stops there
//! as if the process had died: nothing after it runs and nothing is cleaned up. Without the
//! feature, [`check`] is an empty inline function.

use crate::error::RotateError;

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

#[cfg(feature = "fault-injection")]
static ARMED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Stops the rotation of `secret` at `point` once (tests only).
#[cfg(feature = "fault-injection")]
pub fn arm(secret: &str, point: &str) {
    ARMED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((secret.to_owned(), point.to_owned()));
}

/// Returns the injected fault if `point` is armed for `secret` (and disarms it).
#[inline]
pub fn check(secret: &str, point: &str) -> Result<(), RotateError> {
    #[cfg(feature = "fault-injection")]
    {
        let mut armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = armed.iter().position(|(s, p)| s == secret && p == point) {
            armed.remove(i);
            return Err(RotateError::Injected(point.to_owned()));
        }
    }
    let _ = (secret, point);
    Ok(())
}

/// Panics if `point` is armed for `secret` (and disarms it): the sweep's isolation test.
#[inline]
pub fn panic_if_armed(secret: &str, point: &str) {
    if check(secret, point).is_err() {
        panic!("fault injected: panic at {point} for {secret}");
    }
}

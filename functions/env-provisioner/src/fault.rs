//! Crash points for tests: with the `fault-injection` feature (enabled only by this crate's
//! dev-dependency on itself), a test arms a point for one environment and the handler stops
//! there as if the process had died: nothing after it runs and nothing is cleaned up. Without
//! the feature, [`check`] is an empty inline function.

use events::names::EnvName;

use crate::error::ProvisionError;

#[cfg(feature = "fault-injection")]
static ARMED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Stops the handler at `point` for `env` once (tests only).
#[cfg(feature = "fault-injection")]
pub fn arm(env: &EnvName, point: &str) {
    ARMED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((env.to_string(), point.to_owned()));
}

/// Returns the injected fault if `point` is armed for `env` (and disarms it).
#[inline]
pub fn check(env: &EnvName, point: &str) -> Result<(), ProvisionError> {
    #[cfg(feature = "fault-injection")]
    {
        let mut armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = armed
            .iter()
            .position(|(e, p)| e == env.as_str() && p == point)
        {
            armed.remove(i);
            return Err(ProvisionError::Injected(point.to_owned()));
        }
    }
    let _ = (env, point);
    Ok(())
}

//! Crash points for tests: with the `fault-injection` feature (which a service's own
//! `fault-injection` feature enables, and only its dev-dependency on itself turns on), a test
//! arms a point for one subject (an environment, a secret) and the task stops there as if
//! the process had died: nothing after it runs and nothing is cleaned up. Without the
//! feature, [`check`] is an empty inline function and [`Injected`] cannot exist.

use std::fmt;

use crate::task::Step;

/// A crash a test asked for, at the named point.
#[cfg(feature = "fault-injection")]
#[derive(Debug)]
pub struct Injected(pub String);

/// A crash a test asked for; without the `fault-injection` feature there is none.
#[cfg(not(feature = "fault-injection"))]
#[derive(Debug)]
pub enum Injected {}

#[cfg(feature = "fault-injection")]
static ARMED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Stops the task working on `subject` at `point` once (tests only).
#[cfg(feature = "fault-injection")]
pub fn arm(subject: &str, point: &str) {
    ARMED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((subject.to_owned(), point.to_owned()));
}

/// The injected crash if `point` is armed for `subject` (and disarms it).
#[inline]
pub fn check(subject: &str, point: impl fmt::Display) -> Result<(), Injected> {
    #[cfg(feature = "fault-injection")]
    {
        let point = point.to_string();
        let mut armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = armed.iter().position(|(s, p)| s == subject && *p == point) {
            armed.remove(i);
            return Err(Injected(point));
        }
    }
    let _ = (subject, point);
    Ok(())
}

/// [`check`] at `STEP:moment` (`create:before`, `finish:moved`, …).
#[inline]
pub fn at<S: Step>(subject: &str, step: S, moment: &str) -> Result<(), Injected> {
    check(subject, format_args!("{step}:{moment}"))
}

#[cfg(all(test, feature = "fault-injection"))]
mod tests {
    use super::*;

    crate::steps! {
        /// One step, for the test.
        enum Demo: "demo" of "thing" { Only = "only" }
    }

    #[test]
    fn an_armed_point_fires_once_for_its_subject_only() {
        arm("a", "only:before");
        assert!(at("b", Demo::Only, "before").is_ok(), "another subject");
        assert!(at("a", Demo::Only, "after").is_ok(), "another point");
        let Err(Injected(point)) = at("a", Demo::Only, "before") else {
            panic!("armed point did not fire");
        };
        assert_eq!(point, "only:before");
        assert!(
            at("a", Demo::Only, "before").is_ok(),
            "disarmed after firing"
        );
    }
}

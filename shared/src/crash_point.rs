//! Crash points for tests: with the `fault-injection` feature (which a service's own
//! `fault-injection` feature enables, and only its dev-dependency on itself turns on), a test
//! arms a point for one subject (an environment, a secret) and the task stops there as if
//! the process had died: nothing after it runs and nothing is cleaned up. Without the
//! feature, [`check`] is an empty inline function and [`Injected`] cannot exist.
//!
//! A whole-stack fault test cannot reach into a service's process, so the same feature also
//! arms points from outside: `GROUNDSKEEPER_CRASH_AT=subject@point[,subject@point…]`, read
//! once per process. Such a point does not return an error: the process SIGKILLs itself
//! there (a real `kill -9`: no destructor, no flush, no response to Pub/Sub), and whoever
//! runs it starts a new instance without the variable, as Cloud Run would.

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

/// The variable that arms points for the whole process (see the module's doc).
pub const CRASH_AT_VARIABLE: &str = "GROUNDSKEEPER_CRASH_AT";

/// The `(subject, point)` pairs of a [`CRASH_AT_VARIABLE`] value; malformed items are
/// ignored (a typo arms nothing, and the suite that set it fails on the missing kill).
pub fn parse_crash_at(value: &str) -> Vec<(String, String)> {
    value
        .split(',')
        .filter_map(|item| item.trim().split_once('@'))
        .filter(|(subject, point)| !subject.is_empty() && !point.is_empty())
        .map(|(subject, point)| (subject.to_owned(), point.to_owned()))
        .collect()
}

/// The points armed for this process by its environment, read once.
#[cfg(feature = "fault-injection")]
fn armed_by_environment() -> &'static [(String, String)] {
    static FROM_ENV: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    FROM_ENV.get_or_init(|| {
        crate::env::Env::from_process()
            .optional(CRASH_AT_VARIABLE)
            .map(|v| parse_crash_at(&v))
            .unwrap_or_default()
    })
}

/// Dies at once by SIGKILL, as `kill -9` from outside would: nothing after this runs.
#[cfg(feature = "fault-injection")]
fn kill_this_process(subject: &str, point: &str) -> ! {
    // The one line the fault suite looks for to know the point was reached (it is stderr,
    // unbuffered; the subject is a resource name, never a secret).
    eprintln!("crash point {point} for {subject}: SIGKILL to this process ({CRASH_AT_VARIABLE})");
    let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
    // SIGKILL cannot be caught; should delivery lag, this thread must still not go on.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// The injected crash if `point` is armed for `subject` (and disarms it). A point armed by
/// [`CRASH_AT_VARIABLE`] never returns: the process kills itself.
#[inline]
pub fn check(subject: &str, point: impl fmt::Display) -> Result<(), Injected> {
    #[cfg(feature = "fault-injection")]
    {
        let point = point.to_string();
        if armed_by_environment()
            .iter()
            .any(|(s, p)| s == subject && *p == point)
        {
            kill_this_process(subject, &point);
        }
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

    /// Not a test of its own: the body the next test runs in a child process (it returns at
    /// once unless that test started it).
    #[test]
    fn child_passing_a_crash_point() {
        if crate::env::Env::from_process()
            .optional("CRASH_POINT_CHILD")
            .is_none()
        {
            return;
        }
        let _ = check("env-a", "database:before");
        println!("survived the crash point");
    }

    fn run_child(armed: &str) -> std::process::Output {
        std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["crash_point::tests::child_passing_a_crash_point", "--exact"])
            .args(["--nocapture", "--test-threads=1"])
            .env("CRASH_POINT_CHILD", "1")
            .env(CRASH_AT_VARIABLE, armed)
            .output()
            .expect("run the child")
    }

    #[test]
    fn a_point_armed_by_the_variable_kills_its_process_with_sigkill() {
        use std::os::unix::process::ExitStatusExt as _;
        let killed = run_child("env-a@database:before");
        let stdout = String::from_utf8_lossy(&killed.stdout);
        assert_eq!(killed.status.signal(), Some(9), "{:?}", killed.status);
        assert!(!stdout.contains("survived"), "nothing runs after the point");
        assert!(String::from_utf8_lossy(&killed.stderr)
            .contains("crash point database:before for env-a: SIGKILL"));
        // Another subject's point leaves this one alone.
        let spared = run_child("env-b@database:before");
        assert!(spared.status.success(), "{:?}", spared.status);
        assert!(String::from_utf8_lossy(&spared.stdout).contains("survived"));
    }

    #[test]
    fn the_variable_names_subjects_and_points_and_ignores_the_malformed() {
        assert_eq!(
            parse_crash_at("env-a@database:before, sec@finish:moved,broken,@x,y@"),
            [
                ("env-a".to_owned(), "database:before".to_owned()),
                ("sec".to_owned(), "finish:moved".to_owned()),
            ]
        );
    }
}

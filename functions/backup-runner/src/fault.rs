//! Crash points for tests (`shared::crash_point`, the `fault-injection` feature): a test arms
//! a point for one subject and the delivery stops there as if the process had died; the fault
//! suite arms them by `GROUNDSKEEPER_CRASH_AT` and the process SIGKILLs itself.
//!
//! Each sits where a durable record has been written and what follows it has not: the
//! places where a redelivery must finish the work rather than take the record for all of it.

/// Every crash point, in the order a backup, its verification and a restore pass them.
/// Subjects: the environment for the first three, the database restored into for the last
/// two.
/// - `upload:after`: the dump and its pending record are stored; the manifest is not.
/// - `manifest:after`: the manifest is stored; `backup.completed` is not sent.
/// - `verify:after`: the verification record is stored; its event is not sent.
/// - `restore:after`: the restore committed; the database is not marked restored.
/// - `restore:marked`: the database is marked; `backup.restored` is not sent.
pub const POINTS: [&str; 5] = [
    "upload:after",
    "manifest:after",
    "verify:after",
    "restore:after",
    "restore:marked",
];

/// Stops the next delivery for `subject` at `point` once (tests only).
#[cfg(feature = "fault-injection")]
pub fn arm(subject: &str, point: &str) {
    shared::crash_point::arm(subject, point);
}

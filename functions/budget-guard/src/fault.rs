//! Crash points for tests (`shared::crash_point`, the `fault-injection` feature): a test arms
//! a point for one budget (its `budgetId`) and the delivery stops there as if the process had
//! died; the fault suite arms them by `GROUNDSKEEPER_CRASH_AT` and the process SIGKILLs itself.

/// Every crash point, in the order a level and a later restore pass them. `apply:before`
/// follows the journal's record of a resource's settings and precedes their change;
/// `apply:after` follows the change and precedes its record. `restore:before` precedes the
/// first resource put back; `restore:after` follows the last and precedes
/// `downscale.resumed` and the journal's record of it.
pub const POINTS: [&str; 4] = [
    "apply:before",
    "apply:after",
    "restore:before",
    "restore:after",
];

/// Stops the next delivery for `budget_id` at `point` once (tests only).
#[cfg(feature = "fault-injection")]
pub fn arm(budget_id: &str, point: &str) {
    shared::crash_point::arm(budget_id, point);
}

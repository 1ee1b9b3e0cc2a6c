//! budget-guard: graduated, authenticated, exactly reversible downscaling on Cloud Billing
//! budget alerts. Work in progress (issue 13): the decision core — configuration, the ladder,
//! the never-touch rule and the once-per-level journal.

pub mod config;
pub mod decide;
pub mod journal;
pub mod migrations;
pub mod protect;

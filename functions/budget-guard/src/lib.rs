//! budget-guard: graduated, authenticated, exactly reversible downscaling on Cloud Billing
//! budget alerts. Work in progress (issue 13): the decision core (configuration, the ladder,
//! the never-touch rule, the once-per-level journal) and the backends (Cloud Run scaling,
//! Cloud SQL activation, database suspension), not yet joined by a handler.

pub mod backends;
pub mod config;
pub mod decide;
pub mod journal;
pub mod migrations;
pub mod protect;

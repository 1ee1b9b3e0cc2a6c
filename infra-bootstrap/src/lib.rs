//! infra-bootstrap: groundskeeper's event plumbing as a declarative plan.
//!
//! `manifest` (the file) → `desired` (specs) → `plan` (diff against live state read by
//! the stores in `pubsub`, `scheduler::cloud`, `budgets`, and the IAM policies `iam` reads)
//! → `apply`. `scheduler` runs jobs locally, `doctor` checks the live plumbing for known
//! traps.

pub mod budgets;
pub mod cli;
pub mod cli_gk;
pub mod converge;
pub mod desired;
pub mod doctor;
pub mod iam;
pub mod manifest;
pub mod money;
pub mod output;
pub mod plan;
pub mod publish;
pub mod pubsub;
pub mod scheduler;
pub mod store;

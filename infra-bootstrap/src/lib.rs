//! infra-bootstrap: groundskeeper's event plumbing, its operator CLI and the local stack.
//!
//! The crate has three rooms:
//!
//! - **The bootstrap** (the `infra-bootstrap` binary: plan / apply / destroy / doctor):
//!   `manifest` (the file) → `desired` (specs) → `plan` (diff against live state read by the
//!   stores in `pubsub`, `scheduler::cloud`, `budgets`, and the IAM policies `iam` reads) →
//!   `apply`. `scheduler` runs jobs locally, `doctor` checks the live plumbing for known traps.
//! - **The operator CLI** ([`operator`], the `groundskeeper` binary): `env request / wait /
//!   list / credentials / teardown`, `secret rotate`, `publish` — for people and CI.
//! - **The local stack** ([`operator::local`], `groundskeeper local up / down / status / logs
//!   / demo`): PostgreSQL, the Pub/Sub emulator and every built service of the registry
//!   (`events::platform`) on this machine, started through the `local-components` launcher,
//!   with the plumbing applied by the bootstrap, and a scripted tour.

pub mod budgets;
pub mod cli;
pub mod converge;
pub mod desired;
pub mod doctor;
pub mod iam;
pub mod manifest;
pub mod money;
pub mod operator;
pub mod output;
pub mod plan;
pub mod pubsub;
pub mod scheduler;
pub mod store;

//! local-components: one launcher for the real components groundskeeper runs on this
//! machine — PostgreSQL, the official Pub/Sub emulator and `fake-gcs-server` — used by the
//! local stack (`groundskeeper local up`, a production binary) and by the test harness
//! (`testbed`), so neither keeps process-group or readiness code of its own.
//!
//! - [`process`]: a command in its own process group with its log; stopping the whole group
//!   (the `gcloud` wrapper leaves the emulator's Java child alive when killed alone).
//! - [`ready`]: waiting for TCP or HTTP readiness, failing early when the group dies.
//! - [`ports`]: free loopback ports.
//! - [`tools`]: finding the programs, with the exact command that installs a missing one.
//! - [`postgres`], [`pubsub`], [`fake_gcs`]: how each component is started.

pub mod fake_gcs;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod pubsub;
pub mod ready;
pub mod tools;

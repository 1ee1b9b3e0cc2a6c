//! One catalogued input: how it is sent, and what must come of it.

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use serde_json::{json, Value};

/// A dead letter's `error-type`s, as the runtime names them.
pub const UNDECODABLE: &str = "undecodable-delivery";
pub const UNKNOWN_TYPE: &str = "unknown-event-type";
pub const INVALID_PAYLOAD: &str = "invalid-payload";
pub const BY_HANDLER: &str = "rejected-by-handler";

/// What the provisioner leaves for a request it refuses under a readable name, by design
/// (`requests::refuse`: `groundskeeper env wait NAME` reports it): the refusal row, the
/// ledger's "rejected" record, and `environment.failed`. Nothing is created.
pub const REFUSAL: &[&str] = &[
    "event dev.groundskeeper.environment.failed.v1",
    "row in control.deliveries",
    "row in control.environment_requests",
];

/// An input, its expected status and dead-letter `error-type`, and what it may change
/// beyond the dead letter (`effects`, census keys; empty for nearly every row).
pub struct Row {
    pub input: String,
    pub token: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub status: u16,
    pub dead_letter: Option<&'static str>,
    pub effects: &'static [&'static str],
}

impl Row {
    /// A request with these headers and body, a valid push token, dead-lettered as `kind`.
    pub fn raw(
        input: &str,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
        kind: &'static str,
    ) -> Row {
        Row {
            input: input.to_owned(),
            token: "valid",
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
            status: 204,
            dead_letter: Some(kind),
            effects: &[],
        }
    }

    /// A Pub/Sub push (wrapped JSON) of `message`, as `{"message": …, "subscription": …}`.
    pub fn wrapped(input: &str, message: Value, kind: &'static str) -> Row {
        let body = json!({ "message": message, "subscription": "projects/p/subscriptions/s" });
        Row::raw(
            input,
            &[("content-type", "application/json")],
            body.to_string(),
            kind,
        )
    }

    /// A push of `data` with `attributes`, data base64-encoded as Pub/Sub sends it.
    pub fn push(input: &str, attributes: Value, data: &[u8], kind: &'static str) -> Row {
        let message = json!({
            "data": base64::engine::general_purpose::STANDARD.encode(data),
            "attributes": attributes,
            "messageId": next_id(),
            "publishTime": "2026-11-27T10:00:00Z",
        });
        Row::wrapped(input, message, kind)
    }

    /// A push of our event type `ty` with payload `data`.
    pub fn event(input: &str, ty: &str, data: &[u8], kind: &'static str) -> Row {
        let attributes = json!({ "ce-type": ty, "ce-source": "//ci", "ce-specversion": "1.0" });
        Row::push(input, attributes, data, kind)
    }

    /// A well-formed push carrying the push token `seed` (a file of `fuzz/seeds/oidc_token`,
    /// or "" for none): refused with 401 before its body is read.
    pub fn token(input: &str, seed: &'static str) -> Row {
        let ty = events::types::ENVIRONMENT_TEARDOWN_REQUESTED;
        Row {
            token: seed,
            status: 401,
            dead_letter: None,
            ..Row::event(input, ty, br#"{"name": "shop"}"#, UNDECODABLE)
        }
    }

    /// Refused by the handler under a readable name (see [`REFUSAL`]).
    pub fn refused(self) -> Row {
        Row {
            dead_letter: Some(BY_HANDLER),
            effects: REFUSAL,
            ..self
        }
    }
}

/// Message ids, unique per row (the ledger keys deliveries on them).
fn next_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("bad-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

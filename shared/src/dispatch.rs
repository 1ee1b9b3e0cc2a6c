//! One delivery, from bytes to decision: decode, type, claim, run, settle, dead-letter.
//!
//! HTTP and `replay` both go through [`Dispatcher`], so an operator replaying a dead-lettered
//! message sees exactly what the service would do. The per-delivery timeout and panic
//! catching live here rather than in tower layers because the ledger lease must be released
//! when either cuts a handler off, and `replay` needs them too.

use std::{marker::PhantomData, panic::AssertUnwindSafe, time::Duration};

use events::{Event, Payload, RawEvent};
use futures::FutureExt;
use http::HeaderMap;
use tracing::Span;

use crate::{
    dead_letter,
    handler::Handler,
    ledger::{Claim, ClaimGuard, Ledger, SettleError},
    outcome::{Classify, Decision, Disposition, RejectKind},
    Ctx, Outcome,
};

/// Settings of the dispatch path.
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// The idempotency ledger; `None` runs every delivery.
    pub ledger: Option<Ledger>,
    /// Where rejected deliveries go.
    pub dead_letter_topic: String,
    /// A handler running longer is cut off and retried.
    pub timeout: Duration,
}

/// Runs deliveries through one handler.
pub struct Dispatcher<T, H> {
    handler: H,
    ctx: Ctx,
    options: DispatchOptions,
    payload: PhantomData<fn() -> T>,
}

impl<T: Payload, H: Handler<T>> Dispatcher<T, H> {
    /// A dispatcher for `handler` over `ctx`'s backends.
    pub fn new(handler: H, ctx: Ctx, options: DispatchOptions) -> Self {
        Self {
            handler,
            ctx,
            options,
            payload: PhantomData,
        }
    }

    /// Decodes an HTTP delivery and runs it.
    pub async fn dispatch(&self, headers: &HeaderMap, body: &[u8]) -> Decision {
        match events::delivery::decode(headers, body) {
            Ok(raw) => self.dispatch_raw(raw).await,
            Err(error) => {
                let content_type = headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                let message = dead_letter::undecodable_message(body, content_type);
                let kind = RejectKind::from(&error);
                self.reject(message, kind, error.to_string(), None).await
            }
        }
    }

    /// Runs an already decoded delivery.
    pub async fn dispatch_raw(&self, raw: RawEvent) -> Decision {
        let span = Span::current();
        span.record("event_id", raw.id.as_str());
        span.record("event_type", raw.ty.as_str());
        if let Some(attempt) = raw.delivery_attempt {
            span.record("delivery_attempt", attempt);
        }
        let original = dead_letter::original_message(&raw);
        let message_id = raw
            .pubsub
            .as_ref()
            .map_or_else(|| raw.id.clone(), |p| p.message_id.clone());
        let event = match raw.typed::<T>() {
            Ok(event) => event,
            Err(error) => {
                let kind = RejectKind::from(&error);
                return self
                    .reject(original, kind, error.to_string(), Some(&message_id))
                    .await;
            }
        };
        let claim = match self.claim(&event).await {
            Ok(Some(guard)) => Some(guard),
            Ok(None) => None,
            Err(decision) => return decision,
        };
        let decision = match self.run_guarded(event).await {
            Ok(Outcome::Done) => Decision::Done,
            Ok(Outcome::Ignored(why)) => Decision::Ignored(why),
            Err(HandlerFailure::Retry { reason, quiet }) => Decision::Retry { reason, quiet },
            Err(HandlerFailure::Reject(reason)) => {
                self.reject(original, RejectKind::Handler, reason, Some(&message_id))
                    .await
            }
        };
        settle(claim, decision).await
    }

    /// Asks the ledger; `Err` is the decision when the handler must not run now.
    async fn claim(&self, event: &Event<T>) -> Result<Option<ClaimGuard>, Decision> {
        let Some(ledger) = &self.options.ledger else {
            return Ok(None);
        };
        let key = event
            .data
            .idempotency_key()
            .unwrap_or_else(|| format!("{} {}", event.source, event.id));
        match ledger.claim(&key).await {
            Ok(Claim::Claimed(guard)) => Ok(Some(guard)),
            Ok(Claim::AlreadyDone) => Err(Decision::Duplicate),
            Ok(Claim::InFlight) => Err(Decision::Retry {
                reason: "another delivery of this event is in flight".into(),
                quiet: true,
            }),
            Err(error) => Err(Decision::Retry {
                reason: format!("idempotency ledger unavailable: {error}"),
                quiet: false,
            }),
        }
    }

    /// Runs the handler with the delivery timeout, turning a panic into a retry.
    async fn run_guarded(&self, event: Event<T>) -> Result<Outcome, HandlerFailure> {
        let call = AssertUnwindSafe(self.handler.call(event, self.ctx.clone())).catch_unwind();
        match tokio::time::timeout(self.options.timeout, call).await {
            Err(_) => Err(HandlerFailure::Retry {
                reason: format!(
                    "handler timed out after {} s",
                    self.options.timeout.as_secs_f32()
                ),
                quiet: false,
            }),
            Ok(Err(panic)) => Err(HandlerFailure::Retry {
                reason: format!("handler panicked: {}", panic_message(panic.as_ref())),
                quiet: false,
            }),
            Ok(Ok(Ok(outcome))) => Ok(outcome),
            Ok(Ok(Err(error))) => Err(HandlerFailure::from_error(&error)),
        }
    }

    async fn reject(
        &self,
        message: events::Message,
        kind: RejectKind,
        reason: String,
        message_id: Option<&str>,
    ) -> Decision {
        let forwarded = dead_letter::forward(
            self.ctx.publisher().as_ref(),
            &self.options.dead_letter_topic,
            message,
            kind,
            &reason,
            message_id,
            self.ctx.service(),
        )
        .await;
        match forwarded {
            Ok(_) => Decision::Rejected { kind, reason },
            // Never ack what we could not park: Pub/Sub keeps it and redelivers.
            Err(error) => Decision::Retry {
                reason: format!("rejected ({reason}) but dead-lettering failed: {error}"),
                quiet: false,
            },
        }
    }
}

/// A handler failure, already classified.
enum HandlerFailure {
    Retry { reason: String, quiet: bool },
    Reject(String),
}

impl HandlerFailure {
    fn from_error<E: Classify>(error: &E) -> Self {
        let reason = error_chain(error);
        match error.disposition() {
            Disposition::Retry { quiet } => Self::Retry { reason, quiet },
            Disposition::Reject => Self::Reject(reason),
        }
    }
}

/// Records the decision in the ledger. A rejection is final, like success.
async fn settle(claim: Option<ClaimGuard>, decision: Decision) -> Decision {
    let Some(guard) = claim else {
        return decision;
    };
    let decision_name = decision.name();
    let settled = match &decision {
        Decision::Retry { .. } => guard.release().await,
        other => guard.complete(other.name()).await,
    };
    match settled {
        Ok(()) => decision,
        // This handler overran its lease and another delivery holds the event now; that one
        // settles it. A retry asks again once its outcome is recorded (logged: an overrun
        // means the lease is too short for the handler).
        Err(error @ SettleError::Lost) => Decision::Retry {
            reason: format!("could not record the outcome ({decision_name}): {error}"),
            quiet: false,
        },
        // The work is done but unrecorded: a redelivery re-runs an idempotent handler.
        Err(error) => Decision::Retry {
            reason: format!("could not record the outcome in the ledger: {error}"),
            quiet: false,
        },
    }
}

/// `error: cause: cause`, the way operators read it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

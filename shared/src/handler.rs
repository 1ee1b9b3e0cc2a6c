//! The shape of a service's handler: `async fn(Event<T>, Ctx) -> Result<Outcome, E>`.

use std::future::Future;

use events::{Event, Payload};

use crate::{outcome::Classify, Ctx, Outcome};

/// A service's handler. Implemented for every `Fn(Event<T>, Ctx) -> impl Future<...>` that
/// can be shared across deliveries, so a plain `async fn` is a handler.
pub trait Handler<T: Payload>: Clone + Send + Sync + 'static {
    /// The handler's error, which says whether to retry or reject.
    type Error: Classify;

    /// Handles one event.
    fn call(
        &self,
        event: Event<T>,
        ctx: Ctx,
    ) -> impl Future<Output = Result<Outcome, Self::Error>> + Send;
}

impl<T, E, F, Fut> Handler<T> for F
where
    T: Payload,
    E: Classify,
    F: Fn(Event<T>, Ctx) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Outcome, E>> + Send,
{
    type Error = E;

    fn call(&self, event: Event<T>, ctx: Ctx) -> impl Future<Output = Result<Outcome, E>> + Send {
        self(event, ctx)
    }
}

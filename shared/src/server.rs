//! The HTTP face of a service: `POST /` takes deliveries, `GET /healthz` answers, and
//! SIGTERM drains in-flight deliveries within Cloud Run's shutdown window.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Request, State},
    http::{header::AUTHORIZATION, HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use events::Payload;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::{auth::PushAuth, dispatch::Dispatcher, handler::Handler, outcome::Decision, trace};

/// The largest body a push of one Pub/Sub message can be; larger bodies get 413. Pub/Sub
/// allows 10 MB of message, but the wrapped push form base64-encodes the data (4/3 of it,
/// 13.4 MiB) and adds the attributes and envelope as JSON: a limit of 10 MiB refused valid
/// messages of over 7.5 MB with 413, which Pub/Sub redelivers until its attempts run out.
pub const MAX_BODY_BYTES: usize = 15 * 1024 * 1024;

/// Builds the service's router around a dispatcher; `auth` verifies push tokens when set.
pub fn router<T: Payload, H: Handler<T>>(
    dispatcher: Dispatcher<T, H>,
    auth: Option<PushAuth>,
    service: &str,
) -> Router {
    let deliveries = Router::new()
        .route("/", post(deliver::<T, H>))
        .with_state(Arc::new(DeliveryState {
            dispatcher,
            service: service.to_owned(),
        }));
    let deliveries = match auth {
        Some(auth) => {
            deliveries.layer(middleware::from_fn_with_state(Arc::new(auth), authenticate))
        }
        None => deliveries,
    };
    deliveries
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // A panic outside a handler (the handler's own are caught by the dispatcher) must
        // not take the process down: answer 503 so Pub/Sub redelivers.
        .layer(CatchPanicLayer::custom(|_| {
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }))
}

struct DeliveryState<T, H> {
    dispatcher: Dispatcher<T, H>,
    service: String,
}

async fn deliver<T: Payload, H: Handler<T>>(
    State(state): State<Arc<DeliveryState<T, H>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let span = tracing::info_span!(
        "delivery",
        service = %state.service,
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        delivery_attempt = tracing::field::Empty,
    );
    trace::adopt_parent(&span, &headers);
    async move {
        let decision = state.dispatcher.dispatch(&headers, &body).await;
        log_decision(&decision);
        decision.status()
    }
    .instrument(span)
    .await
}

/// Rejects unauthenticated pushes before the body is read.
async fn authenticate(State(auth): State<Arc<PushAuth>>, request: Request, next: Next) -> Response {
    match auth.verify(request.headers().get(AUTHORIZATION)).await {
        Ok(_caller) => next.run(request).await,
        Err(error) => {
            tracing::warn!(%error, "push request refused");
            error.status().into_response()
        }
    }
}

/// One line per delivery, at the severity an operator expects.
pub fn log_decision(decision: &Decision) {
    let name = decision.name();
    match decision {
        Decision::Done | Decision::Duplicate => tracing::info!(decision = name, "delivery handled"),
        Decision::Ignored(reason) => tracing::info!(decision = name, %reason, "delivery ignored"),
        Decision::Retry {
            reason,
            quiet: true,
        } => {
            tracing::info!(decision = name, %reason, "delivery will be retried")
        }
        Decision::Retry {
            reason,
            quiet: false,
        } => {
            tracing::error!(decision = name, %reason, "delivery failed; it will be retried")
        }
        Decision::Rejected { kind, reason } => {
            tracing::warn!(decision = name, error_type = %kind, %reason, "delivery dead-lettered")
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting and lets
/// in-flight deliveries finish for at most `grace` (Cloud Run kills at 10 s).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: draining in-flight deliveries"
        );
        let _ = stopping_tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let deadline = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served,
        () = deadline => {
            tracing::warn!("shutdown grace period over; abandoning in-flight deliveries");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM (Cloud Run's stop signal) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {},
            _ = ctrl_c => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

//! `replay --file F [--dry-run] [--type T] [--header K:V]`: runs a delivery from a file
//! through the same decode and handler path as HTTP, and prints one JSON object: the decoded
//! event, the decision, and the actions planned (dry run) or taken.
//!
//! Operators use it to inspect a dead-lettered message and, once the cause is fixed, to
//! re-drive it. The file may hold any delivery body (a push envelope — which is also what
//! `gcloud pubsub subscriptions pull --format=json` prints per message — or a structured
//! CloudEvent), or a bare payload with `--type`.
//!
//! A real (not dry) replay claims and settles the event in the idempotency ledger, as a
//! delivery does, when the service has one (`DATABASE_URL`, `IDEMPOTENCY`): replaying an
//! event already handled is a duplicate and runs nothing. `--force` runs it again anyway
//! (still never beside a live delivery of the same event) and records the new outcome.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::Context as _;
use clap::Args;
use events::{Message, Payload};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

use crate::credential::SslMode;
use crate::{
    backends::{
        databases::{DryRunDatabases, ServerEndpoint},
        object_store::DryRunStore,
        publisher::{PublishError, Publisher, RecordingPublisher},
        secrets::DryRunSecretStore,
        Plan,
    },
    config::RuntimeConfig,
    dispatch::{DispatchOptions, Dispatcher},
    handler::Handler,
    ledger::Ledger,
    outcome::Decision,
    Backends, Ctx,
};

/// Arguments of `replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The delivery (or, with --type, the bare payload) to run.
    #[arg(long)]
    file: PathBuf,
    /// Touch no backend and need no database: print what would be done.
    #[arg(long)]
    dry_run: bool,
    /// The file is a bare JSON payload of this event type.
    #[arg(long = "type", value_name = "TYPE")]
    event_type: Option<String>,
    /// An HTTP header of the original delivery (binary-mode CloudEvents), e.g. `ce-type:T`.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// Run the event even if the ledger records it as handled (not with --dry-run).
    #[arg(long, conflicts_with = "dry_run")]
    force: bool,
}

/// Runs the replay and prints the report; the exit code is 0 done, 1 retry, 2 rejected.
pub async fn replay<T, H>(
    handler: H,
    config: RuntimeConfig,
    args: ReplayArgs,
) -> anyhow::Result<ExitCode>
where
    T: Payload,
    H: Handler<T>,
{
    let body = std::fs::read(&args.file)
        .with_context(|| format!("reading --file {}", args.file.display()))?;
    let raw = decode_file(&body, args.event_type.as_deref(), &args.headers)?;
    let plan = Plan::default();
    let backends = if args.dry_run {
        Backends {
            service: config.service.clone(),
            events_topic: config.events_topic.clone(),
            publisher: Arc::new(RecordingPublisher::new(plan.clone())),
            control_db: None,
            object_store: Some(Arc::new(DryRunStore::new(plan.clone()))),
            secrets: Some(Arc::new(DryRunSecretStore::new(plan.clone()))),
            databases: Some(Arc::new(DryRunDatabases::new(
                plan.clone(),
                dry_run_endpoint(&config),
            ))),
            plan: Some(plan.clone()),
        }
    } else {
        let mut real = crate::run::backends(&config).await?;
        real.publisher = Arc::new(Taken {
            inner: real.publisher,
            taken: plan.clone(),
        });
        real
    };
    let ledger = match (&config.database_url, config.idempotency, args.dry_run) {
        (Some(url), true, false) => {
            let ledger = Ledger::connect(url, &config.service, config.lease)
                .await
                .context("connecting the idempotency ledger (DATABASE_URL)")?;
            Some(if args.force { ledger.forcing() } else { ledger })
        }
        _ => None,
    };
    let options = DispatchOptions {
        ledger,
        dead_letter_topic: config.dead_letter_topic.clone(),
        timeout: config.delivery_timeout,
    };
    let dispatcher = Dispatcher::new(handler, Ctx::new(backends), options);
    let (event, decision) = match raw {
        Ok(raw) => (
            serde_json::to_value(&raw)?,
            dispatcher.dispatch_raw(raw).await,
        ),
        Err(_) => (
            json!(null),
            dispatcher
                .dispatch(&headers(&body, &args.headers)?, &body)
                .await,
        ),
    };
    let report = json!({
        "event": event,
        "decision": decision_json(&decision),
        if args.dry_run { "actions_planned" } else { "actions_taken" }: plan.actions(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::from(match decision {
        Decision::Retry { .. } => 1,
        Decision::Rejected { .. } => 2,
        _ => 0,
    }))
}

/// What a dry run tells clients: the configured public address, or placeholders.
fn dry_run_endpoint(config: &RuntimeConfig) -> ServerEndpoint {
    let public = &config.managed_database_public;
    ServerEndpoint {
        host: public
            .host
            .clone()
            .unwrap_or_else(|| "managed-database.invalid".to_owned()),
        port: public.port.unwrap_or(5432),
        sslmode: public.sslmode.unwrap_or(SslMode::Prefer),
    }
}

/// Decodes a replay file as `replay` does: a bare payload of `event_type` when given, else a
/// delivery body with the `--header NAME:VALUE` arguments in `extra_headers`. The outer error
/// is an unusable `--header`; the inner one is the delivery's, which `replay` dispatches
/// anyway so that the report shows the rejection. Public so the fuzz target (`fuzz/`) runs
/// exactly this path on untrusted files.
pub fn decode_file(
    body: &[u8],
    event_type: Option<&str>,
    extra_headers: &[String],
) -> anyhow::Result<Result<events::RawEvent, events::DecodeError>> {
    Ok(match event_type {
        Some(ty) => Ok(events::delivery::bare(ty, body.to_vec())),
        None => events::delivery::decode(&headers(body, extra_headers)?, body),
    })
}

fn headers(body: &[u8], extra_headers: &[String]) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    let structured = serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|v| v.get("specversion").is_some());
    let content_type = if structured {
        "application/cloudevents+json"
    } else {
        "application/json"
    };
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    for header in extra_headers {
        let (name, value) = header
            .split_once(':')
            .with_context(|| format!("--header {header:?}: expected NAME:VALUE"))?;
        headers.insert(
            HeaderName::try_from(name.trim()).with_context(|| format!("--header name {name:?}"))?,
            HeaderValue::try_from(value.trim())
                .with_context(|| format!("--header value of {name}"))?,
        );
    }
    Ok(headers)
}

fn decision_json(decision: &Decision) -> serde_json::Value {
    let mut value = json!({ "outcome": decision.name() });
    match decision {
        Decision::Ignored(reason) | Decision::Retry { reason, .. } => {
            value["reason"] = reason.as_str().into();
        }
        Decision::Rejected { kind, reason } => {
            value["reason"] = reason.as_str().into();
            value["error_type"] = kind.as_str().into();
        }
        Decision::Done | Decision::Duplicate => {}
    }
    value
}

/// Publishes for real and notes each publish as an action taken.
struct Taken {
    inner: Arc<dyn Publisher>,
    taken: Plan,
}

#[async_trait::async_trait]
impl Publisher for Taken {
    async fn publish(&self, topic: &str, message: Message) -> Result<String, PublishError> {
        let attributes = message.attributes.clone();
        let id = self.inner.publish(topic, message).await?;
        self.taken.record(json!({
            "backend": "publisher", "action": "publish", "topic": topic,
            "attributes": attributes, "message_id": id,
        }));
        Ok(id)
    }
}

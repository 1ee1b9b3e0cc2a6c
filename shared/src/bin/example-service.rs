//! example-service: the smallest groundskeeper service, for the runtime's own tests, the
//! end-to-end push test and the runtime benchmark.
//!
//! It accepts `dev.groundskeeper.example.ping.v1`, validates the name the way every service
//! validates environment names, and does what the payload asks: nothing, sleep, fail with a
//! retry or a rejection, panic, or emit a `pong` follow-up event.

use std::{process::ExitCode, time::Duration};

use events::{names::EnvName, OutgoingEvent};
use serde::{Deserialize, Serialize};
use shared::{Classify, Ctx, Disposition, Event, Outcome, TypedEvent};

/// What the ping asks the service to do.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Behaviour {
    #[default]
    Done,
    Retry,
    Reject,
    Panic,
    Pong,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ping {
    name: EnvName,
    #[serde(default)]
    behaviour: Behaviour,
    #[serde(default)]
    sleep_ms: u64,
}

impl TypedEvent for Ping {
    const TYPE: &'static str = "dev.groundskeeper.example.ping.v1";
}

#[derive(Debug, Serialize, Deserialize)]
struct Pong {
    name: EnvName,
}

impl TypedEvent for Pong {
    const TYPE: &'static str = "dev.groundskeeper.example.pong.v1";
}

#[derive(Debug, thiserror::Error)]
enum ExampleError {
    #[error("the ping asked for a retry")]
    AskedToRetry,
    #[error("the ping asked to be rejected")]
    AskedToReject,
    #[error(transparent)]
    Publish(#[from] shared::backends::publisher::PublishError),
}

impl Classify for ExampleError {
    fn disposition(&self) -> Disposition {
        match self {
            Self::AskedToReject => Disposition::Reject,
            Self::AskedToRetry | Self::Publish(_) => Disposition::Retry { quiet: false },
        }
    }
}

async fn handle(event: Event<Ping>, ctx: Ctx) -> Result<Outcome, ExampleError> {
    let ping = event.data;
    if ping.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(ping.sleep_ms)).await;
    }
    match ping.behaviour {
        Behaviour::Done => Ok(Outcome::Done),
        Behaviour::Retry => Err(ExampleError::AskedToRetry),
        Behaviour::Reject => Err(ExampleError::AskedToReject),
        Behaviour::Panic => panic!("the ping asked for a panic"),
        Behaviour::Pong => {
            let pong = Pong { name: ping.name };
            ctx.emit(OutgoingEvent::new(ctx.source(), event.id, &pong))
                .await?;
            Ok(Outcome::Done)
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    shared::run(handle).await
}

//! `env request`: publish an environment request, and with `--wait` wait for that very
//! request's outcome.

use std::process::ExitCode;

use events::environment::{EnvironmentRequested, PreviewService};
use events::names::EnvName;
use events::TypedEvent;

use super::target::Target;
use super::wait::{self, Until};
use super::{publish, RequestArgs};
use crate::output::{self, Output};

/// Publishes the request; prints the message id (and the request id, see [`printed`]); with
/// `--wait`, the exit code is the wait's.
pub async fn request(target: &Target, a: RequestArgs, out: Output) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(a.image.is_some() || a.env.is_empty(), "--env needs --image");
    let service = a.image.map(|image| PreviewService {
        image,
        env: a.env.into_iter().collect(),
    });
    let request = EnvironmentRequested {
        name: a.name,
        owner: a.owner,
        tier: a.tier,
        ttl: a.ttl,
        labels: a.label.into_iter().collect(),
        service,
        from_backup: None,
    };
    // Reach the control state before publishing: a request without its wait would leave a CI
    // step with neither an environment nor an answer.
    let pool = if a.wait {
        Some(target.control_db().await?)
    } else {
        None
    };
    let request_id = publish::new_event_id();
    let message_id =
        publish::send_typed_as(&target.publisher()?, &request, request_id.clone()).await?;
    printed(out, &message_id, &request_id, &request.name)?;
    match pool {
        Some(pool) => {
            let timeout = a.timeout.to_std();
            wait::wait(
                &pool,
                &request.name,
                Until::Ready,
                timeout,
                Some(&request_id),
            )
            .await
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The message id on stdout (table) or `{"message_id", "type", "request_id"}` (json). The
/// request id is the event id the provisioner records its decision under; people get it as a
/// hint on stderr.
fn printed(out: Output, message_id: &str, request_id: &str, name: &EnvName) -> anyhow::Result<()> {
    let ty = EnvironmentRequested::TYPE;
    let value =
        serde_json::json!({ "message_id": message_id, "type": ty, "request_id": request_id });
    if out == Output::Table {
        eprintln!("groundskeeper: request {request_id} (env wait {name} --request {request_id})");
    }
    output::print(out, &value, |_| format!("{message_id}\n"))
}

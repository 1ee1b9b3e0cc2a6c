//! The synthetic probes: publish one valid and one malformed event to a service's trigger
//! topic, then read its dead-letter subscription for a while.

use std::collections::BTreeMap;
use std::time::Duration;

use google_cloud_pubsub::client::Subscriber;

use crate::manifest::{Manifest, Service};
use crate::pubsub::PubsubAdmin;
use crate::scheduler::JobMessage;
use shared::backends::publisher::Publisher;

/// How long the malformed probe may take to be rejected and dead-lettered.
const WAIT: Duration = Duration::from_secs(20);
/// How long to keep watching for the valid probe once the malformed one has arrived.
const GRACE: Duration = Duration::from_secs(2);

/// A probe pair, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probes {
    /// The trigger topic both go to.
    pub topic: String,
    /// A valid event the service must ack without dead-lettering it.
    pub valid: JobMessage,
    /// The same attributes with a body that is not JSON: must be dead-lettered.
    pub malformed: JobMessage,
}

/// The service's probes (ce-ids `{run_id}-valid` / `{run_id}-malformed`): its
/// `[service.probe]`, else the first job that triggers it; `None` without either.
pub fn messages(
    manifest: &Manifest,
    service: &Service,
    run_id: &str,
) -> anyhow::Result<Option<Probes>> {
    let (event_type, data, topic, extra) = match (
        &service.probe,
        manifest.jobs.iter().find(|j| j.service == service.name),
    ) {
        (Some(p), _) => (
            p.event_type.clone(),
            serde_json::to_vec(&p.data)?,
            service.topics[0].clone(),
            p.attributes.clone(),
        ),
        (None, Some(job)) => (
            job.event_type.clone(),
            serde_json::to_vec(&job.data)?,
            job.topic.clone(),
            BTreeMap::new(),
        ),
        (None, None) => return Ok(None),
    };
    let message = |suffix: &str, data: Vec<u8>| {
        let mut attributes = extra.clone();
        attributes.extend([
            ("ce-specversion".into(), "1.0".into()),
            ("ce-type".into(), event_type.clone()),
            ("ce-source".into(), "//groundskeeper/doctor".into()),
            ("ce-id".into(), format!("{run_id}-{suffix}")),
            ("content-type".into(), "application/json".into()),
        ]);
        JobMessage { attributes, data }
    };
    Ok(Some(Probes {
        topic,
        valid: message("valid", data),
        malformed: message("malformed", b"{not json".to_vec()),
    }))
}

/// `None` when the service has no probe; `Some(Err(why))` when a probe went wrong.
pub(super) async fn run(
    manifest: &Manifest,
    service: &Service,
    admin: &PubsubAdmin,
    publisher: &dyn Publisher,
    dlq_subscription: &str,
) -> anyhow::Result<Option<Result<(), String>>> {
    let run_id = format!("doctor-probe-{}", chrono::Utc::now().timestamp_micros());
    let Some(probes) = messages(manifest, service, &run_id)? else {
        return Ok(None);
    };
    publisher
        .publish(&probes.topic, probes.valid.into())
        .await?;
    publisher
        .publish(&probes.topic, probes.malformed.into())
        .await?;
    let subscriber = if admin.emulator.is_some() {
        Subscriber::builder()
            .with_endpoint(format!(
                "http://{}",
                admin.emulator.as_deref().unwrap_or_default()
            ))
            .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
            .build()
            .await?
    } else {
        Subscriber::builder().build().await?
    };
    let mut stream = subscriber
        .subscribe(admin.subscription_path(dlq_subscription))
        .build();
    let mut deadline = tokio::time::Instant::now() + WAIT;
    let (mut malformed_reason, mut valid_seen) = (None, false);
    while !valid_seen {
        if malformed_reason.is_some() {
            // A rejected valid probe is dead-lettered as fast as the malformed one: look a
            // little longer so it is not missed for arriving second.
            deadline = deadline.min(tokio::time::Instant::now() + GRACE);
        }
        let Ok(next) = tokio::time::timeout_at(deadline, stream.next()).await else {
            break;
        };
        let Some((msg, handler)) = next.transpose()? else {
            break;
        };
        let id = msg.attributes.get("ce-id").cloned().unwrap_or_default();
        if id == format!("{run_id}-malformed") {
            malformed_reason = Some(
                msg.attributes
                    .get("error-reason")
                    .cloned()
                    .unwrap_or_default(),
            );
            handler.ack();
        } else if id == format!("{run_id}-valid") {
            valid_seen = true;
            handler.ack();
        } else {
            // Not ours: leave it for the operator.
            handler.nack();
        }
    }
    Ok(Some(match (malformed_reason, valid_seen) {
        (_, true) => Err("the valid probe was dead-lettered".into()),
        (None, _) => Err(format!(
            "the malformed probe did not reach {dlq_subscription} within {WAIT:?}"
        )),
        (Some(r), _) if r.is_empty() => {
            Err("the malformed probe was dead-lettered without error-reason".into())
        }
        (Some(_), false) => Ok(()),
    }))
}

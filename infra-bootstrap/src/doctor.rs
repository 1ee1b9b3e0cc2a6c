//! doctor: checks the live plumbing for the known traps, then sends synthetic probes.
//!
//! Traps: subscriptions that expire when idle, dead-letter topics nobody subscribes to,
//! push subscriptions without a dead-letter policy, push endpoints not answering
//! `GET /healthz`. Probes (when every endpoint is up): per service one valid event that
//! must be acked (never reach the dead-letter subscription) and one malformed event that
//! must arrive there with an `error-reason` attribute. On Google Cloud, `google` adds every
//! IAM grant the manifest implies and the budgets' notification wiring.

use std::sync::Arc;

use serde::Serialize;

use crate::desired::{dead_letter_subscription, push_subscription, SubscriptionSpec};
use crate::manifest::Manifest;
use crate::pubsub::PubsubAdmin;
use crate::store::{progress, Store};
use shared::backends::publisher::Publisher;

pub mod google;
pub mod probe;

/// One check and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// Skipped checks are neither a pass nor a failure (e.g. probes with a service down).
    pub skipped: bool,
    pub detail: String,
}

/// Every check, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// True when no check failed.
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.ok || c.skipped)
    }

    fn add(&mut self, name: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            ok,
            skipped: false,
            detail: detail.into(),
        });
    }

    fn skip(&mut self, name: impl Into<String>, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            ok: false,
            skipped: true,
            detail: detail.into(),
        });
    }

    /// The failed checks' names.
    pub fn failures(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.ok && !c.skipped)
            .map(|c| c.name.as_str())
            .collect()
    }
}

/// The report as a table.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.checks {
        let verdict = if c.skipped {
            "SKIP"
        } else if c.ok {
            "ok"
        } else {
            "FAIL"
        };
        out.push_str(&format!("{verdict:<5} {:<60} {}\n", c.name, c.detail));
    }
    out.push_str(if report.healthy() {
        "healthy\n"
    } else {
        "UNHEALTHY\n"
    });
    out
}

/// Runs every check against the live project.
pub async fn run(
    manifest: &Manifest,
    admin: &PubsubAdmin,
    publisher: Arc<dyn Publisher>,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    progress(format_args!("reading subscriptions"));
    let subs = admin.list_subscriptions().await?;
    let topics = Store::<crate::desired::TopicSpec>::list(admin).await?;
    for sub in &subs {
        let name = format!("subscription {} never expires", sub.name);
        match sub.expiration_ttl_secs {
            None => report.add(name, true, ""),
            Some(ttl) => report.add(
                name,
                false,
                format!("deleted after {ttl}s idle: set expiration to never"),
            ),
        }
    }
    let mut dead_letter_topics: Vec<String> = subs
        .iter()
        .filter_map(|s| s.dead_letter.clone().map(|d| d.0))
        .collect();
    dead_letter_topics.extend(
        topics
            .iter()
            .filter(|t| t.name.ends_with("-dead-letter"))
            .map(|t| t.name.clone()),
    );
    dead_letter_topics.sort();
    dead_letter_topics.dedup();
    for dlq in &dead_letter_topics {
        let readers: Vec<&SubscriptionSpec> = subs.iter().filter(|s| &s.topic == dlq).collect();
        let detail = if readers.is_empty() {
            "no subscription: dead-lettered messages are dropped".to_owned()
        } else {
            String::new()
        };
        report.add(
            format!("dead-letter topic {dlq} has a subscription"),
            !readers.is_empty(),
            detail,
        );
    }
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    let mut all_up = true;
    for service in &manifest.services {
        for topic in &service.topics {
            let name = push_subscription(&service.name, topic);
            let live = subs.iter().find(|s| s.name == name);
            let ok = live.is_some_and(|s| s.dead_letter.as_ref().is_some_and(|(_, n)| *n >= 5));
            report.add(
                format!("subscription {name} dead-letters after >= 5 attempts"),
                ok,
                if live.is_none() {
                    "missing: run apply"
                } else {
                    ""
                },
            );
        }
        let url = healthz_url(&service.push_endpoint)?;
        let up = match http.get(url.clone()).send().await {
            Ok(resp) if resp.status().is_success() => (true, String::new()),
            Ok(resp) => (false, format!("{url} answered {}", resp.status())),
            Err(e) => (false, format!("{url}: {e}")),
        };
        all_up &= up.0;
        report.add(
            format!("service {} answers GET /healthz", service.name),
            up.0,
            up.1,
        );
    }
    for service in &manifest.services {
        let name = format!(
            "probes for {} (valid acked, malformed dead-lettered)",
            service.name
        );
        if !all_up {
            report.skip(name, "a push endpoint is down");
            continue;
        }
        match probe::run(
            manifest,
            service,
            admin,
            publisher.as_ref(),
            &dead_letter_subscription(&service.name),
        )
        .await
        {
            Ok(None) => report.skip(name, "no [service.probe] and no job for this service"),
            Ok(Some(Ok(()))) => report.add(name, true, ""),
            Ok(Some(Err(why))) => report.add(name, false, why),
            Err(e) => report.add(name, false, e.to_string()),
        }
    }
    Ok(report)
}

fn healthz_url(push_endpoint: &str) -> anyhow::Result<reqwest::Url> {
    Ok(reqwest::Url::parse(push_endpoint)?.join("/healthz")?)
}

//! Cloud Scheduler jobs with Pub/Sub targets, on the official `google-cloud-scheduler-v1`
//! client. Jobs carry no labels, so ours are marked by their description.

use std::collections::BTreeMap;

use async_trait::async_trait;
use google_cloud_scheduler_v1::client::CloudScheduler;
use google_cloud_scheduler_v1::model::{Job, PubsubTarget};
use google_cloud_wkt::FieldMask;

use super::job_message;
use crate::manifest::{Manifest, Mode};
use crate::plan::Spec;
use crate::store::Store;

/// Description prefix of every job we manage.
pub const MARK: &str = "managed-by=groundskeeper";

/// A Cloud Scheduler job publishing to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    pub name: String,
    pub description: String,
    pub schedule: String,
    pub time_zone: String,
    /// Short topic id.
    pub topic: String,
    pub attributes: BTreeMap<String, String>,
    pub data: Vec<u8>,
}

/// The manifest's jobs (none in emulator mode: the local loop runs them).
pub fn desired_jobs(manifest: &Manifest) -> anyhow::Result<Vec<JobSpec>> {
    if manifest.mode == Mode::Emulator {
        return Ok(vec![]);
    }
    manifest
        .jobs
        .iter()
        .map(|job| {
            let message = job_message(job)?;
            Ok(JobSpec {
                name: job.name.clone(),
                description: format!("{MARK}: publishes {} to {}", job.event_type, job.topic),
                schedule: job.schedule.clone(),
                time_zone: job.time_zone.clone(),
                topic: job.topic.clone(),
                attributes: message.attributes,
                data: message.data,
            })
        })
        .collect()
}

impl Spec for JobSpec {
    const KIND: &'static str = "scheduler-job";
    fn name(&self) -> &str {
        &self.name
    }
    fn managed(&self) -> bool {
        self.description.starts_with(MARK)
    }
    fn fields(&self) -> BTreeMap<&'static str, String> {
        let attrs = self
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>();
        BTreeMap::from([
            ("description", self.description.clone()),
            ("schedule", self.schedule.clone()),
            ("time_zone", self.time_zone.clone()),
            ("topic", self.topic.clone()),
            ("attributes", attrs.join(",")),
            ("data", String::from_utf8_lossy(&self.data).into_owned()),
        ])
    }
}

/// Cloud Scheduler jobs in one project and location.
#[derive(Debug, Clone)]
pub struct SchedulerJobs {
    pub client: CloudScheduler,
    pub project: String,
    pub location: String,
}

impl SchedulerJobs {
    /// The client with default credentials, for the manifest's project and region.
    pub async fn connect(manifest: &Manifest) -> anyhow::Result<Self> {
        Ok(Self {
            client: CloudScheduler::builder().build().await?,
            project: manifest.project.clone(),
            location: manifest.region.clone().unwrap_or_default(),
        })
    }

    fn parent(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.location)
    }

    fn to_model(&self, spec: &JobSpec) -> Job {
        let target = PubsubTarget::new()
            .set_topic_name(format!("projects/{}/topics/{}", self.project, spec.topic))
            .set_data(bytes::Bytes::from(spec.data.clone()))
            .set_attributes(spec.attributes.clone());
        Job::new()
            .set_name(format!("{}/jobs/{}", self.parent(), spec.name))
            .set_description(&spec.description)
            .set_schedule(&spec.schedule)
            .set_time_zone(&spec.time_zone)
            .set_pubsub_target(target)
    }
}

fn short(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

#[async_trait]
impl Store<JobSpec> for SchedulerJobs {
    async fn list(&self) -> anyhow::Result<Vec<JobSpec>> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .client
                .list_jobs()
                .set_parent(self.parent())
                .set_page_token(&token)
                .send()
                .await?;
            for job in page.jobs {
                let target = job.pubsub_target();
                out.push(JobSpec {
                    name: short(&job.name),
                    description: job.description.clone(),
                    schedule: job.schedule.clone(),
                    time_zone: job.time_zone.clone(),
                    topic: target.map(|t| short(&t.topic_name)).unwrap_or_default(),
                    attributes: target
                        .map(|t| t.attributes.clone().into_iter().collect())
                        .unwrap_or_default(),
                    data: target.map(|t| t.data.to_vec()).unwrap_or_default(),
                });
            }
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            token = page.next_page_token;
        }
    }

    async fn create(&self, spec: &JobSpec) -> anyhow::Result<()> {
        self.client
            .create_job()
            .set_parent(self.parent())
            .set_job(self.to_model(spec))
            .send()
            .await?;
        Ok(())
    }

    async fn update(&self, spec: &JobSpec, fields: &[&'static str]) -> anyhow::Result<()> {
        let mut paths: Vec<&str> = fields
            .iter()
            .map(|f| match *f {
                "topic" | "attributes" | "data" => "pubsub_target",
                other => other,
            })
            .collect();
        paths.dedup();
        self.client
            .update_job()
            .set_job(self.to_model(spec))
            .set_update_mask(FieldMask::default().set_paths(paths))
            .send()
            .await?;
        Ok(())
    }

    async fn delete(&self, name: &str) -> anyhow::Result<()> {
        self.client
            .delete_job()
            .set_name(format!("{}/jobs/{name}", self.parent()))
            .send()
            .await?;
        Ok(())
    }
}

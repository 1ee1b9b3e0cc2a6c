//! Scheduled jobs: the message each job publishes (shared by Cloud Scheduler and the local
//! loop), the Cloud Scheduler store, and the local scheduler for the emulator.

pub mod cloud;
pub mod local;

use std::collections::BTreeMap;

use crate::manifest::Job;

/// The Pub/Sub message a job publishes: CloudEvents attributes so the service decodes it
/// as our typed event, and the manifest's JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobMessage {
    pub attributes: BTreeMap<String, String>,
    pub data: Vec<u8>,
}

impl From<JobMessage> for events::Message {
    /// What `shared`'s publisher sends: the same attributes and body, no ordering key.
    fn from(message: JobMessage) -> Self {
        Self {
            data: message.data,
            attributes: message.attributes,
            ordering_key: None,
        }
    }
}

/// The static message of `job` (what Cloud Scheduler sends every time).
pub fn job_message(job: &Job) -> anyhow::Result<JobMessage> {
    let mut attributes = job.attributes.clone();
    attributes.insert("ce-specversion".into(), "1.0".into());
    attributes.insert("ce-type".into(), job.event_type.clone());
    attributes.insert(
        "ce-source".into(),
        format!("//groundskeeper/scheduler/{}", job.name),
    );
    attributes.insert("content-type".into(), "application/json".into());
    let data = serde_json::to_vec(&job.data)?;
    Ok(JobMessage { attributes, data })
}

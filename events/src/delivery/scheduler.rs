//! Cloud Scheduler HTTP-target requests.
//!
//! Scheduler sends the job's static body and headers plus `X-CloudScheduler: true`,
//! `X-CloudScheduler-JobName` and, for unix-cron jobs, `X-CloudScheduler-ScheduleTime`
//! (RFC 3339). Our jobs set a `ce-type` header (and may set `ce-source`). The event id is
//! `<job>/<schedule time>`: stable across Scheduler's retries of one run, distinct per run.
//! A forced run ("run now") may lack the schedule time; the job's `ce-id` header is used then.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use http::HeaderMap;

use super::headers::{parse_time, percent_decode, text};
use crate::{DecodeError, DeliveryForm, RawEvent};

const MARKER: &str = "x-cloudscheduler";
const JOB_NAME: &str = "x-cloudscheduler-jobname";
const SCHEDULE_TIME: &str = "x-cloudscheduler-scheduletime";

/// Whether the request comes from Cloud Scheduler.
pub(super) fn is_scheduler(headers: &HeaderMap) -> bool {
    headers.contains_key(MARKER)
}

/// Decodes a Scheduler HTTP-target request.
pub(super) fn decode(headers: &HeaderMap, body: &[u8]) -> Result<RawEvent, DecodeError> {
    let job = text(headers, JOB_NAME)?
        .filter(|job| !job.is_empty())
        .ok_or(DecodeError::MissingField("X-CloudScheduler-JobName"))?;
    let ty = text(headers, "ce-type")?
        .map(percent_decode)
        .filter(|ty| !ty.is_empty())
        .ok_or(DecodeError::MissingType)?;
    let raw_time = text(headers, SCHEDULE_TIME)?;
    let schedule_time = raw_time
        .map(|t| parse_time("X-CloudScheduler-ScheduleTime", t))
        .transpose()?;
    let id = match (schedule_time, text(headers, "ce-id")?) {
        (Some(time), _) => format!(
            "{job}/{}",
            time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        ),
        (None, Some(id)) if !id.is_empty() => percent_decode(id),
        (None, _) => return Err(DecodeError::MissingField("X-CloudScheduler-ScheduleTime")),
    };
    let source = match text(headers, "ce-source")? {
        Some(source) if !source.is_empty() => percent_decode(source),
        _ if job.starts_with("projects/") => format!("//cloudscheduler.googleapis.com/{job}"),
        _ => format!("//cloudscheduler.googleapis.com/jobs/{job}"),
    };
    let mut attributes = BTreeMap::from([(JOB_NAME.to_owned(), job.to_owned())]);
    if let Some(raw_time) = raw_time {
        attributes.insert(SCHEDULE_TIME.to_owned(), raw_time.to_owned());
    }
    Ok(RawEvent {
        id,
        source,
        ty,
        time: schedule_time,
        subject: text(headers, "ce-subject")?.map(percent_decode),
        attributes,
        delivery_attempt: None,
        data: body.to_vec(),
        pubsub: None,
        form: DeliveryForm::SchedulerHttp,
    })
}

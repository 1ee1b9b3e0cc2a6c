//! Where an environment's objects live, and its bucket in bucket mode: the `bucket` step
//! (create, check, remove) and the place of the `objects` step's marker.
//!
//! A bucket counts as the environment's own only when it carries `managed-by=groundskeeper`
//! and `environment=NAME`: bucket names are global, so a bucket of that name may be anyone's,
//! in any project, and such a bucket is never adopted, emptied or deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use events::names::EnvName;
use shared::backends::object_store::{
    BucketSpec, BucketState, Buckets, Created, DryRunBuckets, ObjectStore,
};
use shared::Ctx;

use crate::error::StepError;
use crate::state::{self, Record};
use crate::storage::{BucketMode, Storage};
use crate::Config;

/// The marker object, relative to the environment's place.
const MARKER: &str = ".groundskeeper.json";

/// A store and the prefix of the environment's objects in it.
pub struct Place {
    /// The shared store, or the environment's bucket.
    pub store: Arc<dyn ObjectStore>,
    /// `envs/NAME/` in the shared store, empty in a bucket of its own.
    pub prefix: String,
}

impl Place {
    /// The key of the marker object that records the environment's labels.
    pub fn marker(&self) -> String {
        format!("{}{MARKER}", self.prefix)
    }

    /// Deletes every object under the prefix.
    pub async fn empty(&self) -> Result<(), StepError> {
        for object in self.store.list(&self.prefix).await? {
            self.store.delete(&object.key).await?;
        }
        Ok(())
    }
}

fn bucket_error(e: shared::backends::object_store::BucketError) -> StepError {
    StepError {
        retryable: e.is_retryable(),
        reason: e.to_string(),
    }
}

/// The buckets client; in a dry run one that only records into the plan.
fn buckets(ctx: &Ctx, mode: &BucketMode) -> Arc<dyn Buckets> {
    match ctx.plan() {
        Some(plan) => Arc::new(DryRunBuckets::new(plan.clone())),
        None => mode.buckets.clone(),
    }
}

fn is_ours(labels: &BTreeMap<String, String>, name: &EnvName) -> bool {
    events::labels::belongs_to_environment(labels, name.as_str())
}

/// `k=v, k=v`, or `none`.
fn listed(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "none".into();
    }
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(", ")
}

/// Why an existing bucket is not this environment's, or `None` when it is.
fn foreign(bucket: &str, state: &BucketState, name: &EnvName) -> Option<String> {
    let leave = "it is left alone; choose another environment name or ENV_BUCKET_PREFIX";
    match state {
        BucketState::Absent => None,
        BucketState::Present { labels } if is_ours(labels, name) => None,
        BucketState::Present { labels } => Some(format!(
            "bucket {bucket} already exists without the labels managed-by=groundskeeper, environment={name} (it has: {}); {leave}",
            listed(labels)
        )),
        BucketState::Forbidden => Some(format!(
            "bucket {bucket} already exists and this service account may not read it (bucket names are global: most likely another project's); {leave}"
        )),
    }
}

/// Whatever exists under the environment's bucket name, described as a conflict; `None` in
/// prefix mode or when there is no such bucket. Run only when no attempt of this environment
/// has started the step, so even a bucket labelled as ours was not made by it.
pub async fn bucket_conflict(
    ctx: &Ctx,
    config: &Config,
    name: &EnvName,
) -> Result<Option<String>, StepError> {
    let Storage::Bucket(mode) = &config.storage else {
        return Ok(None);
    };
    let bucket = mode.bucket_name(name);
    match buckets(ctx, mode).state(&bucket).await.map_err(bucket_error)? {
        BucketState::Absent => Ok(None),
        state => Ok(Some(foreign(&bucket, &state, name).unwrap_or_else(|| {
            format!("bucket {bucket} already exists and no attempt of this environment recorded creating it; it is left alone")
        }))),
    }
}

/// The `bucket` step: creates the environment's bucket with its labels (uniform access), or
/// finds the one an earlier attempt made before crashing. `skipped` in prefix mode.
pub async fn create_bucket(
    ctx: &Ctx,
    config: &Config,
    record: &Record,
) -> Result<&'static str, StepError> {
    let Storage::Bucket(mode) = &config.storage else {
        return Ok("skipped");
    };
    let name = &record.name;
    let bucket = mode.bucket_name(name);
    // Recorded first, so removal finds the bucket even if ENV_BUCKET_PREFIX changes later.
    state::set_output(ctx.control_db()?, name, "bucket", &bucket).await?;
    let buckets = buckets(ctx, mode);
    let spec = BucketSpec {
        name: bucket.clone(),
        location: mode.location.clone(),
        labels: record.labels.clone(),
    };
    if buckets.create(&spec).await.map_err(bucket_error)? == Created::New {
        return Ok("created");
    }
    let state = buckets.state(&bucket).await.map_err(bucket_error)?;
    match foreign(&bucket, &state, name) {
        _ if state == BucketState::Absent => Err(StepError::transient(format!(
            "bucket {bucket} was reported as existing, then not found; trying again"
        ))),
        Some(reason) => Err(StepError::permanent(reason)),
        None => Ok("created"), // made by this environment's crashed attempt
    }
}

/// The environment's bucket, if its record says it has one (the `bucket` step started).
fn recorded_bucket<'a>(
    config: &'a Config,
    record: &Record,
) -> Result<Option<(String, &'a BucketMode)>, StepError> {
    if !matches!(
        record.resources.get("bucket").map(String::as_str),
        Some("created" | "creating")
    ) {
        return Ok(None);
    }
    let Storage::Bucket(mode) = &config.storage else {
        return Err(StepError::transient(format!(
            "environment {} has a bucket, but ENV_STORAGE is not `bucket`: set it (and ENV_BUCKET_*) to remove it",
            record.name
        )));
    };
    let bucket = match record.outputs.get("bucket") {
        Some(bucket) => bucket.clone(),
        None => mode.bucket_name(&record.name),
    };
    Ok(Some((bucket, mode)))
}

/// Removes the environment's bucket: every object, then the bucket. A bucket that is gone
/// is done; one that is not the environment's own is left alone (and said so in the log).
pub async fn remove_bucket(ctx: &Ctx, config: &Config, record: &Record) -> Result<(), StepError> {
    let Some((bucket, mode)) = recorded_bucket(config, record)? else {
        return Ok(());
    };
    let Some(place) = owned_bucket(ctx, mode, &bucket, &record.name).await? else {
        return Ok(());
    };
    place.empty().await?;
    buckets(ctx, mode)
        .delete(&bucket)
        .await
        .map_err(bucket_error)
}

async fn owned_bucket(
    ctx: &Ctx,
    mode: &BucketMode,
    bucket: &str,
    name: &EnvName,
) -> Result<Option<Place>, StepError> {
    let buckets = buckets(ctx, mode);
    let state = buckets.state(bucket).await.map_err(bucket_error)?;
    if let Some(reason) = foreign(bucket, &state, name) {
        tracing::warn!(environment = %name, %reason, "not removing a bucket that is not this environment's");
        return Ok(None);
    }
    if state == BucketState::Absent {
        return Ok(None);
    }
    let store = buckets.store(bucket).await.map_err(bucket_error)?;
    Ok(Some(Place {
        store,
        prefix: String::new(),
    }))
}

/// Where the `objects` step writes: the configured mode's place (its bucket exists: the
/// `bucket` step came first).
pub async fn place_for_create(
    ctx: &Ctx,
    config: &Config,
    name: &EnvName,
) -> Result<Place, StepError> {
    match &config.storage {
        Storage::Prefix => Ok(Place {
            store: ctx.object_store()?.clone(),
            prefix: name.object_prefix(),
        }),
        Storage::Bucket(mode) => Ok(Place {
            store: buckets(ctx, mode)
                .store(&mode.bucket_name(name))
                .await
                .map_err(bucket_error)?,
            prefix: String::new(),
        }),
    }
}

/// Where the environment's objects are, by its record; `None` when its bucket is gone or is
/// not its own.
pub async fn place_of(
    ctx: &Ctx,
    config: &Config,
    record: &Record,
) -> Result<Option<Place>, StepError> {
    match recorded_bucket(config, record)? {
        Some((bucket, mode)) => owned_bucket(ctx, mode, &bucket, &record.name).await,
        None => Ok(Some(Place {
            store: ctx.object_store()?.clone(),
            prefix: record.name.object_prefix(),
        })),
    }
}

/// Where the objects are, for people (`environment.ready`'s `object_prefix`).
pub fn url(ctx: &Ctx, config: &Config, name: &EnvName) -> String {
    match &config.storage {
        Storage::Prefix => format!(
            "{}/{}",
            config.object_store_url.trim_end_matches('/'),
            name.object_prefix()
        ),
        Storage::Bucket(mode) => buckets(ctx, mode).url(&mode.bucket_name(name)),
    }
}

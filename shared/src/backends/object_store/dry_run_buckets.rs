//! Buckets that are never made: creates and deletes are recorded into a [`Plan`], lookups
//! find nothing, and a bucket's objects go to a [`DryRunStore`] on the same plan.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::buckets::{
    validate_bucket_name, BucketError, BucketSpec, BucketState, Buckets, Created,
};
use super::{DryRunStore, ObjectStore};
use crate::backends::Plan;

/// Records `{"backend": "buckets", "action": "create" | "delete", "bucket", ...}`.
#[derive(Debug, Clone)]
pub struct DryRunBuckets {
    plan: Plan,
}

impl DryRunBuckets {
    /// Records into `plan`.
    pub fn new(plan: Plan) -> Self {
        Self { plan }
    }
}

fn checked(name: &str) -> Result<(), BucketError> {
    validate_bucket_name(name).map_err(|reason| BucketError {
        bucket: name.to_owned(),
        reason,
        retryable: false,
    })
}

#[async_trait]
impl Buckets for DryRunBuckets {
    async fn create(&self, spec: &BucketSpec) -> Result<Created, BucketError> {
        checked(&spec.name)?;
        self.plan.record(json!({
            "backend": "buckets", "action": "create", "bucket": spec.name,
            "location": spec.location, "labels": spec.labels,
        }));
        Ok(Created::New)
    }

    async fn state(&self, name: &str) -> Result<BucketState, BucketError> {
        checked(name)?;
        Ok(BucketState::Absent)
    }

    async fn delete(&self, name: &str) -> Result<(), BucketError> {
        checked(name)?;
        self.plan
            .record(json!({"backend": "buckets", "action": "delete", "bucket": name}));
        Ok(())
    }

    async fn store(&self, name: &str) -> Result<Arc<dyn ObjectStore>, BucketError> {
        checked(name)?;
        Ok(Arc::new(DryRunStore::new(self.plan.clone())))
    }

    fn url(&self, name: &str) -> String {
        format!("dry-run://{name}/")
    }
}

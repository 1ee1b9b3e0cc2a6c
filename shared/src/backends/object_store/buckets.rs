//! Buckets as resources of their own: created with labels, looked up, deleted. For services
//! that give something (an environment) a bucket rather than a prefix in a shared one.
//!
//! Bucket names are global on Cloud Storage, so a name can be taken by anyone, in any
//! project: [`Buckets::state`] tells an absent bucket from one that exists, with its labels,
//! and from one this identity cannot even read (another project's). Deciding whether an
//! existing bucket is one's own is the caller's business, by those labels.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{ObjectStore, StoreError};

/// A bucket to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    /// The bucket's name; see [`validate_bucket_name`].
    pub name: String,
    /// Cloud Storage location (`EU`, `europe-west1`, ...); a local directory has none.
    pub location: String,
    /// Labels (Google Cloud label rules).
    pub labels: BTreeMap<String, String>,
}

/// What exists under a bucket name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketState {
    /// No bucket has this name.
    Absent,
    /// A bucket this identity can read, with its labels (empty when it has none).
    Present {
        /// The bucket's labels.
        labels: BTreeMap<String, String>,
    },
    /// A bucket exists but this identity may not read it: another project's (names are
    /// global), or a grant is missing.
    Forbidden,
}

/// The result of [`Buckets::create`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// This call created the bucket.
    New,
    /// A bucket of that name already existed, whoever made it; nothing was changed.
    AlreadyExists,
}

/// Why a bucket call failed.
#[derive(Debug, thiserror::Error)]
#[error("bucket `{bucket}`: {reason}")]
pub struct BucketError {
    /// The bucket.
    pub bucket: String,
    /// What went wrong.
    pub reason: String,
    /// Whether a retry may succeed (network, 5xx, rate limit) rather than never (a bad name,
    /// a refused permission).
    pub retryable: bool,
}

impl BucketError {
    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

/// Creating, inspecting and deleting buckets.
#[async_trait]
pub trait Buckets: Send + Sync + std::fmt::Debug {
    /// Creates the bucket; an existing one of that name is reported, never modified.
    async fn create(&self, spec: &BucketSpec) -> Result<Created, BucketError>;

    /// What exists under `name`.
    async fn state(&self, name: &str) -> Result<BucketState, BucketError>;

    /// Deletes the bucket `name`, which must be empty; a missing bucket is not an error.
    async fn delete(&self, name: &str) -> Result<(), BucketError>;

    /// The objects of the existing bucket `name`, as a store (it never creates the bucket).
    async fn store(&self, name: &str) -> Result<Arc<dyn ObjectStore>, BucketError>;

    /// Where the bucket's objects are, for people: `gs://NAME/`, `file:///dir/NAME/`.
    fn url(&self, name: &str) -> String;
}

/// Checks `name` against Cloud Storage's bucket naming rules, restricted to the plain form
/// (no dots, no underscores), so that it means the same as a local directory name. The error
/// says which rule is broken.
pub fn validate_bucket_name(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "`{name}` has {} characters; a bucket name has 3-63",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "`{name}` contains {bad:?}; only lowercase letters, digits and dashes are allowed"
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Err(format!(
            "`{name}` must start and end with a letter or a digit"
        ));
    }
    if name.starts_with("goog") {
        return Err(format!(
            "`{name}` starts with `goog`, which Cloud Storage reserves"
        ));
    }
    // "google" and close misspellings such as "g00gle" are refused as well.
    if name.replace('0', "o").contains("google") {
        return Err(format!(
            "`{name}` contains `google` (or a look-alike), which Cloud Storage refuses"
        ));
    }
    Ok(())
}

/// The buckets beside the store of `url`: `gs://…` creates buckets in `project` (the bucket
/// and prefix of the URL play no part; `gcs_endpoint` points at an emulator), `file:///root`
/// makes each bucket a directory next to `root`. Contacts nothing yet.
pub fn buckets_from_url(
    url: &str,
    gcs_endpoint: Option<&str>,
    project: &str,
) -> Result<Arc<dyn Buckets>, StoreError> {
    let bad = |reason: String| StoreError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    if url.starts_with("gs://") {
        gcs(project, gcs_endpoint).map_err(bad)
    } else if let Some(root) = url.strip_prefix("file://") {
        Ok(Arc::new(super::FileBuckets::beside(root).map_err(bad)?))
    } else {
        Err(bad("expected gs://bucket/prefix or file:///path".into()))
    }
}

#[cfg(feature = "gcs")]
fn gcs(project: &str, endpoint: Option<&str>) -> Result<Arc<dyn Buckets>, String> {
    Ok(Arc::new(super::GcsBuckets::new(project, endpoint)?))
}

#[cfg(not(feature = "gcs"))]
fn gcs(_: &str, _: Option<&str>) -> Result<Arc<dyn Buckets>, String> {
    Err("this service was built without Cloud Storage (the `shared/gcs` cargo feature)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in ["abc", "gk-env-pr-4711", "0-0", &"a".repeat(63)] {
            validate_bucket_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn each_rule_is_named_in_the_refusal() {
        for (name, rule) in [
            ("ab", "3-63"),
            (&"a".repeat(64) as &str, "3-63"),
            ("Gk-env", "lowercase"),
            ("gk_env", "'_'"),
            ("gk.env", "'.'"),
            ("-gk-env", "start and end"),
            ("gk-env-", "start and end"),
            ("goog-env", "starts with `goog`"),
            ("my-google-env", "`google`"),
            ("my-g00gle-env", "`google`"),
        ] {
            let err = validate_bucket_name(name).expect_err(name);
            assert!(err.contains(rule), "{name}: {err}");
        }
    }

    #[test]
    fn a_url_of_another_scheme_is_refused() {
        let err = buckets_from_url("s3://x", None, "p").expect_err("s3");
        assert!(err.to_string().contains("expected gs://"), "{err}");
    }
}

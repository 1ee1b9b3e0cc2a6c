//! Where managed exports go: `gs://bucket[/prefix]/managed/…`, one object per window, so the
//! object's name is the export's idempotency key.

use chrono::{DateTime, Datelike, Utc};
use shared::backends::object_store::{validate_bucket_name, validate_key};

use super::config::{CloudSqlDatabase, RedisInstance};
use crate::store::BackupId;

/// The bucket managed exports are written to (`MANAGED_EXPORT_BUCKET`), and a key prefix.
///
/// The services write there themselves (Cloud SQL, Memorystore); backup-runner reads it
/// through an object store rooted at the bucket, so keys include the prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportBucket {
    /// The bucket's name.
    pub bucket: String,
    /// The key prefix inside the bucket, without slashes around it; empty for none.
    pub prefix: String,
}

impl ExportBucket {
    /// Parses `gs://bucket[/prefix]`; the error says what is wrong (not which variable).
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("gs://")
            .ok_or_else(|| format!("{url:?} is not gs://bucket[/prefix]"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        validate_bucket_name(bucket)?;
        let prefix = prefix.trim_end_matches('/');
        if !prefix.is_empty() {
            validate_key(prefix).map_err(|e| format!("prefix of {url:?}: {e}"))?;
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// `{prefix}/managed/cloudsql/{instance}/{database}/{yyyy}/{mm}/{dd}/{window_id}.sql.gz`.
    pub fn cloud_sql_key(&self, db: &CloudSqlDatabase, window: DateTime<Utc>) -> String {
        let path = format!("cloudsql/{}/{}", db.instance, db.database.as_str());
        self.key(&path, window, "sql.gz")
    }

    /// `{prefix}/managed/redis/{instance}/{yyyy}/{mm}/{dd}/{window_id}.rdb`.
    pub fn redis_key(&self, redis: &RedisInstance, window: DateTime<Utc>) -> String {
        self.key(&format!("redis/{}", redis.instance), window, "rdb")
    }

    /// The `gs://` URI of `key` in this bucket, as the export request names it.
    pub fn uri(&self, key: &str) -> String {
        format!("gs://{}/{key}", self.bucket)
    }

    fn key(&self, path: &str, window: DateTime<Utc>, extension: &str) -> String {
        let date = window.date_naive();
        let id = BackupId::for_window(window);
        let key = format!(
            "managed/{path}/{:04}/{:02}/{:02}/{}.{extension}",
            date.year(),
            date.month(),
            date.day(),
            id.as_str()
        );
        match self.prefix.as_str() {
            "" => key,
            prefix => format!("{prefix}/{key}"),
        }
    }
}

//! The managed exports' configuration: every entry checked at start, an error naming the
//! variable and the entry; the object names built from it.

use backup_runner::managed::{
    ExportBucket, ManagedConfig, CLOUDSQL_EXPORTS, MANAGED_EXPORT_BUCKET, REDIS_EXPORTS,
};
use chrono::{TimeZone, Utc};
use shared::env::Env;

const GOOD_SQL: &str = "acme-prod-1:main-pg:orders";
const GOOD_REDIS: &str = "projects/acme-prod-1/locations/europe-west1/instances/sessions";
const GOOD_BUCKET: &str = "gs://gk-exports/nightly/";

fn env(sql: &str, redis: &str, bucket: &str) -> Env {
    Env::from_pairs([
        (CLOUDSQL_EXPORTS, sql),
        (REDIS_EXPORTS, redis),
        (MANAGED_EXPORT_BUCKET, bucket),
    ])
}

#[test]
fn reads_both_lists_and_the_bucket() {
    let sql = format!("{GOOD_SQL}, example.com:legacy-proj:old-pg:billing");
    let config = ManagedConfig::from_env(&env(&sql, GOOD_REDIS, GOOD_BUCKET)).unwrap();
    let sql: Vec<_> = (config.cloud_sql.iter())
        .map(|d| (d.project(), d.instance(), d.database().as_str()))
        .collect();
    assert_eq!(
        sql,
        [
            ("acme-prod-1", "main-pg", "orders"),
            ("example.com:legacy-proj", "old-pg", "billing")
        ]
    );
    let redis: Vec<_> = config.redis.iter().map(|r| r.name()).collect();
    assert_eq!(redis, [GOOD_REDIS]);
    let bucket = config.bucket.unwrap();
    assert_eq!(
        (bucket.bucket.as_str(), bucket.prefix.as_str()),
        ("gk-exports", "nightly")
    );
}

#[test]
fn nothing_to_export_needs_no_bucket_but_something_does() {
    assert_eq!(
        ManagedConfig::from_env(&Env::default()).unwrap(),
        ManagedConfig::default()
    );
    let err = ManagedConfig::from_env(&env("", GOOD_REDIS, "")).unwrap_err();
    assert_eq!(err.name, MANAGED_EXPORT_BUCKET);
}

#[test]
fn bad_entries_are_refused_naming_the_variable_and_the_entry() {
    let bad_sql = [
        "acme-prod-1:main-pg",
        "Acme-prod-1:main-pg:orders",
        "acme:main-pg:orders",
        "acme-prod-1-:main-pg:orders",
        "acme-prod-1:Main-pg:orders",
        "acme-prod-1:9pg:orders",
        "acme-prod-1:main-pg:orders;drop",
        "acme-prod-1:main-pg:../orders",
        "acme-prod-1:main/pg:orders",
        "a..com:acme-prod-1:main-pg:orders",
    ];
    let bad_redis = [
        "projects/acme-prod-1/instances/sessions",
        "projects/acme-prod-1/locations/europe-west1/instances/Sessions",
        "projects/acme-prod-1/locations/europe-west1/instances/sessions-",
        "projects/acme-prod-1/locations/../instances/sessions",
        "projects/acme-prod-1/locations/europe-west1/instances/sessions/x",
        "projects/ACME/locations/europe-west1/instances/sessions",
    ];
    for entry in bad_sql {
        // After a good entry, so the error must point at the bad one.
        let list = format!("{GOOD_SQL},{entry}");
        let err = ManagedConfig::from_env(&env(&list, GOOD_REDIS, GOOD_BUCKET)).unwrap_err();
        assert_eq!(err.name, CLOUDSQL_EXPORTS, "{entry}: {err}");
        assert!(err.reason.contains(&format!("{entry:?}")), "{entry}: {err}");
    }
    for entry in bad_redis {
        let err = ManagedConfig::from_env(&env(GOOD_SQL, entry, GOOD_BUCKET)).unwrap_err();
        assert_eq!(err.name, REDIS_EXPORTS, "{entry}: {err}");
        assert!(err.reason.contains(&format!("{entry:?}")), "{entry}: {err}");
    }
}

#[test]
fn a_bad_bucket_is_refused_naming_the_variable() {
    let bad = [
        "s3://gk-exports",
        "gk-exports",
        "gs://GK-exports",
        "gs://goog-exports",
        "gs://gk",
        "gs://gk-exports/../elsewhere",
        "gs://gk-exports//nightly",
    ];
    for url in bad {
        let err = ManagedConfig::from_env(&env(GOOD_SQL, GOOD_REDIS, url)).unwrap_err();
        assert_eq!(err.name, MANAGED_EXPORT_BUCKET, "{url}: {err}");
    }
}

#[test]
fn entries_that_would_share_an_object_are_refused() {
    // The key names instance and database, not the project: these two would collide and
    // the second would pass as already exported.
    let sql = "acme-prod-1:main-pg:orders,acme-prod-2:main-pg:orders";
    let err = ManagedConfig::from_env(&env(sql, "", GOOD_BUCKET)).unwrap_err();
    assert_eq!(err.name, CLOUDSQL_EXPORTS, "{err}");
    let redis = format!("{GOOD_REDIS},projects/acme-prod-1/locations/us-east1/instances/sessions");
    let err = ManagedConfig::from_env(&env("", &redis, GOOD_BUCKET)).unwrap_err();
    assert_eq!(err.name, REDIS_EXPORTS, "{err}");
}

#[test]
fn object_names_are_per_window_and_keep_the_prefix_optional() {
    let window = Utc.with_ymd_and_hms(2026, 1, 5, 3, 0, 0).unwrap();
    let config = ManagedConfig::from_env(&env(GOOD_SQL, GOOD_REDIS, "gs://gk-exports")).unwrap();
    let bucket = config.bucket.unwrap();
    let sql_key = bucket.cloud_sql_key(&config.cloud_sql[0], window);
    assert_eq!(
        sql_key,
        "managed/cloudsql/main-pg/orders/2026/01/05/20260105t030000z.sql.gz"
    );
    assert_eq!(
        bucket.uri(&sql_key),
        "gs://gk-exports/managed/cloudsql/main-pg/orders/2026/01/05/20260105t030000z.sql.gz"
    );
    let prefixed = ExportBucket::parse("gs://gk-exports/a/b").unwrap();
    assert_eq!(
        prefixed.redis_key(&config.redis[0], window),
        "a/b/managed/redis/sessions/2026/01/05/20260105t030000z.rdb"
    );
}

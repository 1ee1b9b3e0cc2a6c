//! A Cloud SQL export verified by importing it into a scratch database on a real
//! PostgreSQL: the Admin API is the crate's stub (as in `managed_cloud_sql.rs`), the export
//! it "writes" a real gzipped `pg_dump -Fp` with an owner and a grantee the server lacks.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "managed_cloud_sql_fake.rs"]
mod managed_cloud_sql_fake;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_compression::tokio::bufread::GzipEncoder;
use backup_runner::dump::discover_pg_dumps;
use backup_runner::exporting::{export, Exporters};
use backup_runner::verify::ExportVerification;
use backup_runner::{BackupError, Config};
use events::backup::ExportRequested;
use managed_cloud_sql_fake::managed_support::{window, FakeBucket};
use managed_cloud_sql_fake::FakeCloudSql;
use shared::backends::object_store::{FileStore, ObjectStore};
use shared::backends::publisher::RecordingPublisher;
use shared::backends::Plan;
use shared::{env::Env, Backends, Ctx, Outcome};
use sqlx::{Connection, PgConnection};
use support::scratch_databases;
use testbed::Postgres;
use tokio::io::AsyncReadExt;

const ORDERS_KEY: &str =
    "nightly/managed/cloudsql/main-pg/orders/2026/11/27/20261127t030000z.sql.gz";
const EXPORTED: &str = "dev.groundskeeper.backup.exported.v1";
const FAILED: &str = "dev.groundskeeper.backup.failed.v1";
/// In the verification server's URL; the server trusts it, so only leaks could show it.
const PASSWORD: &str = "s3cret-never-shown";

/// A plain-SQL dump as Cloud SQL exports one: tables with rows, one owned by and one
/// granted to a role that no longer exists anywhere. Returns the SQL and that role.
async fn plain_dump(pg: &Postgres) -> (String, String) {
    let url = pg.fresh_database().await;
    let role = format!("gk_gone_{}", std::process::id());
    let mut conn = PgConnection::connect(&url).await.unwrap();
    for statement in [
        format!("CREATE ROLE {role}"),
        "CREATE TABLE items (id serial PRIMARY KEY, label text)".into(),
        "INSERT INTO items (label) SELECT 'item ' || n FROM generate_series(1, 30) n".into(),
        "CREATE SCHEMA ledger".into(),
        "CREATE TABLE ledger.entries (id bigint, amount numeric(12,2), meta jsonb)".into(),
        "INSERT INTO ledger.entries SELECT n, n * 1.25, jsonb_build_object('n', n) \
         FROM generate_series(1, 51) n"
            .into(),
        "CREATE TABLE empty_one (n int)".into(),
        format!("ALTER TABLE items OWNER TO {role}"),
        format!("GRANT SELECT ON ledger.entries TO {role}"),
    ] {
        sqlx::query(&statement).execute(&mut conn).await.unwrap();
    }
    let pg_dump = discover_pg_dumps(None)
        .await
        .into_iter()
        .max_by_key(|t| t.major);
    let output = tokio::process::Command::new(pg_dump.unwrap().path)
        .args(["-Fp", "--dbname", &url])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // Gone from the server: the import meets the role as Cloud SQL's users are met.
    for statement in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        sqlx::query(&statement).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    let sql = String::from_utf8(output.stdout).unwrap();
    assert!(sql.contains(&format!("OWNER TO {role};")), "{sql}");
    (sql, role)
}

async fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = Vec::new();
    GzipEncoder::new(bytes).read_to_end(&mut gz).await.unwrap();
    gz
}

/// The runner's pieces for one export of `contents`, verified on `verify_url` (if any).
struct Runner {
    bucket: Arc<FakeBucket>,
    fake: Arc<FakeCloudSql>,
    published: Arc<RecordingPublisher>,
}

impl Runner {
    async fn new(contents: Vec<u8>) -> Self {
        let bucket = Arc::new(FakeBucket::new().await);
        let fake = Arc::new(FakeCloudSql {
            contents: Some(contents),
            ..FakeCloudSql::new(&bucket, 1)
        });
        let published = Arc::new(RecordingPublisher::new(Plan::default()));
        Self {
            bucket,
            fake,
            published,
        }
    }

    /// One delivery of the window's export request.
    async fn deliver(&self, verify_url: Option<&str>) -> Result<Outcome, BackupError> {
        let mut pairs = vec![
            ("MANAGED_EXPORT_BUCKET", "gs://gk-exports/nightly"),
            ("CLOUDSQL_EXPORTS", "acme-prod-1:main-pg:orders"),
        ];
        pairs.extend(verify_url.map(|url| ("VERIFY_DATABASE_URL", url)));
        let config = Config::from_env(&Env::from_pairs(pairs)).unwrap();
        let store = FileStore::new(self.bucket.store.root()).await.unwrap();
        let exporters = Exporters {
            cloud_sql: Some(self.fake.exporter(10)),
            redis: None,
            bucket: Arc::new(store),
        };
        let ctx = Ctx::new(Backends {
            service: "backup-runner".into(),
            events_topic: "events".into(),
            publisher: self.published.clone(),
            control_db: None,
            object_store: None,
            secrets: None,
            databases: None,
            plan: None,
        });
        let request = ExportRequested {
            export: "acme-prod-1:main-pg:orders".into(),
            window: window(),
        };
        export(&ctx, &config, Some(&exporters), &request, "e-1").await
    }

    fn events_of(&self, ty: &str) -> Vec<serde_json::Value> {
        let events = self.published.events().into_iter();
        events.filter(|(t, ..)| t == ty).map(|(.., d)| d).collect()
    }

    async fn record(&self) -> Option<ExportVerification> {
        let key = ExportVerification::key_of(ORDERS_KEY);
        let bytes = self.bucket.store.get(&key).await.unwrap()?;
        Some(serde_json::from_slice(&bytes).unwrap())
    }

    async fn has(&self, key: &str) -> bool {
        self.bucket.store.head(key).await.unwrap().is_some()
    }

    /// Nothing the runner wrote or published carries the password.
    fn assert_no_password(&self) {
        let root = self.bucket.store.root().to_owned();
        let mut pending = vec![root];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(!text.contains(PASSWORD), "{}", path.display());
                }
            }
        }
        let events = format!("{:?}", self.published.events());
        assert!(!events.contains(PASSWORD), "{events}");
    }
}

fn verify_url(pg: &Postgres) -> String {
    format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres",
        pg.port()
    )
}

#[tokio::test]
async fn an_export_imports_with_its_exact_counts_recorded_and_no_scratch_left() {
    let pg = Postgres::start().await;
    let (sql, role) = plain_dump(&pg).await;
    let runner = Runner::new(gzip(sql.as_bytes()).await).await;

    let outcome = runner.deliver(Some(&verify_url(&pg))).await.unwrap();

    assert_eq!(outcome, Outcome::Done);
    let record = runner.record().await.expect("a verification record");
    assert!(record.passed, "{record:?}");
    assert_eq!(record.reason, None);
    let counts: BTreeMap<String, i64> = [
        ("ledger.entries", 51),
        ("public.empty_one", 0),
        ("public.items", 30),
    ]
    .into_iter()
    .map(|(table, n)| (table.to_owned(), n))
    .collect();
    assert_eq!(record.row_counts, counts);
    // Every statement naming the missing role was skipped, and nothing else.
    let naming_role = sql
        .lines()
        .filter(|line| line.contains(&format!(" {role}")))
        .filter(|line| line.starts_with("ALTER ") || line.starts_with("GRANT "))
        .count() as u64;
    assert!(naming_role >= 2, "{sql}");
    assert_eq!(record.skipped_role_statements, naming_role);
    assert_eq!(record.object, ORDERS_KEY);
    assert!(record.psql_version.contains("psql"), "{record:?}");
    assert!(runner.has(&format!("{ORDERS_KEY}.manifest.json")).await);
    assert_eq!(scratch_databases(&pg).await, Vec::<String>::new());
    assert_eq!(runner.events_of(EXPORTED).len(), 1);
    assert_eq!(runner.events_of(FAILED).len(), 0);
    runner.assert_no_password();
}

#[tokio::test]
async fn an_export_that_does_not_import_fails_at_verify_and_leaves_no_scratch() {
    let pg = Postgres::start().await;
    let (sql, _) = plain_dump(&pg).await;
    let gz = gzip(sql.as_bytes()).await;
    let marker = pg.dir().join("meta-command-ran");
    let hostile = sql.replacen(
        "CREATE SCHEMA",
        &format!("\\! touch {}\nCREATE SCHEMA", marker.display()),
        1,
    );
    let broken = sql.replacen("CREATE TABLE", "CREATE TABEL", 1);
    let cases = [
        ("truncated", gz[..gz.len() / 2].to_vec(), "gzip"),
        ("trailer cut", gz[..gz.len() - 4].to_vec(), "gzip"),
        (
            "broken SQL",
            gzip(broken.as_bytes()).await,
            "SQLSTATE 42601 at line",
        ),
        (
            "meta-command",
            gzip(hostile.as_bytes()).await,
            "psql refused line",
        ),
    ];
    for (case, contents, expected) in cases {
        let runner = Runner::new(contents).await;

        let outcome = runner.deliver(Some(&verify_url(&pg))).await.unwrap();

        assert_eq!(outcome, Outcome::Done, "{case}");
        let failed = runner.events_of(FAILED);
        assert_eq!(failed.len(), 1, "{case}: {failed:?}");
        assert_eq!(failed[0]["step"], "verify", "{case}");
        assert_eq!(failed[0]["environment"], "main-pg", "{case}");
        assert_eq!(failed[0]["database"], "orders", "{case}");
        let reason = failed[0]["reason"].as_str().unwrap();
        assert!(reason.contains(expected), "{case}: {reason}");
        assert!(runner.events_of(EXPORTED).is_empty(), "{case}");
        let record = runner.record().await.expect("a record of the failure");
        assert!(!record.passed && record.row_counts.is_empty(), "{case}");
        assert_eq!(record.reason.as_deref(), Some(reason), "{case}");
        assert_eq!(scratch_databases(&pg).await, Vec::<String>::new(), "{case}");
        runner.assert_no_password();
    }
    assert!(!marker.exists(), "the export ran a shell command");
}

#[tokio::test]
async fn without_a_verification_server_nothing_is_imported() {
    let pg = Postgres::start().await;
    let (sql, _) = plain_dump(&pg).await;
    let runner = Runner::new(gzip(sql.as_bytes()).await).await;

    let outcome = runner.deliver(None).await.unwrap();

    assert_eq!(outcome, Outcome::Done);
    assert!(runner.has(&format!("{ORDERS_KEY}.manifest.json")).await);
    assert_eq!(runner.record().await, None);
    assert_eq!(runner.events_of(EXPORTED).len(), 1);
    // A redelivery stays done as before: described already, nothing to import.
    let again = runner.deliver(None).await.unwrap();
    assert!(matches!(again, Outcome::Ignored(_)), "{again:?}");
    assert_eq!(runner.record().await, None);
}

#[tokio::test]
async fn an_import_cut_short_after_the_manifest_resumes_once_and_never_repeats() {
    let pg = Postgres::start().await;
    let (sql, _) = plain_dump(&pg).await;
    let runner = Runner::new(gzip(sql.as_bytes()).await).await;
    // Nothing listens there: an import tried against it fails as a retry.
    let unreachable = format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/postgres");

    let first = runner.deliver(Some(&unreachable)).await;

    assert!(
        matches!(&first, Err(BackupError::Transient { .. })),
        "{first:?}"
    );
    assert!(!first.unwrap_err().to_string().contains(PASSWORD));
    assert!(runner.has(&format!("{ORDERS_KEY}.manifest.json")).await);
    assert_eq!(runner.record().await, None);
    assert!(runner.events_of(EXPORTED).is_empty());

    // The redelivery finds the manifest and resumes at the import.
    let second = runner.deliver(Some(&verify_url(&pg))).await.unwrap();
    assert_eq!(second, Outcome::Done);
    let record = runner.record().await.expect("a record");
    assert!(record.passed, "{record:?}");
    assert_eq!(runner.events_of(EXPORTED).len(), 1);
    assert_eq!(runner.fake.state.lock().unwrap().exports.len(), 1);

    // Once recorded, a redelivery imports nothing: against the unreachable server an
    // import would be a retry, not this.
    let third = runner.deliver(Some(&unreachable)).await.unwrap();
    assert!(matches!(third, Outcome::Ignored(_)), "{third:?}");
    assert_eq!(runner.record().await, Some(record));
    assert_eq!(runner.events_of(EXPORTED).len(), 1);
    runner.assert_no_password();
}

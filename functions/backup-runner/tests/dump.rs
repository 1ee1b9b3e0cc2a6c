//! One dump against a real PostgreSQL: a custom-format archive whose checksums match the
//! bytes the sink received, and row counts and contents that are the snapshot's.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::BTreeMap;

use backup_runner::dump::{
    discover_pg_dumps, dump_database, run_pg_dump, select_pg_dump, DumpError, PgDump, Snapshot,
    Target,
};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use testbed::Postgres;

fn target(pg: &Postgres, url: &str) -> Target {
    Target {
        host: "127.0.0.1".into(),
        port: pg.port(),
        user: "postgres".into(),
        password: None,
        database: url.rsplit('/').next().unwrap().into(),
        session_role: None,
    }
}

/// Two schemas, one of them with names that need quoting.
async fn seed(url: &str) -> PgConnection {
    let mut conn = PgConnection::connect(url).await.unwrap();
    for statement in [
        "CREATE TABLE items (id serial PRIMARY KEY, label text)",
        "INSERT INTO items (label) SELECT 'item ' || n FROM generate_series(1, 30) n",
        r#"CREATE SCHEMA "Odd Schema""#,
        r#"CREATE TABLE "Odd Schema"."we""ird" (n int)"#,
        r#"INSERT INTO "Odd Schema"."we""ird" SELECT generate_series(1, 7)"#,
        "CREATE TABLE empty_one (n int)",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    conn
}

fn expected_counts(items: i64) -> BTreeMap<String, i64> {
    BTreeMap::from([
        (r#""Odd Schema"."we""ird""#.to_owned(), 7),
        ("public.empty_one".to_owned(), 0),
        ("public.items".to_owned(), items),
    ])
}

async fn scalar(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(conn).await.unwrap()
}

async fn pg_dump_for(snapshot_version: u32) -> PgDump {
    select_pg_dump(&discover_pg_dumps(None).await, snapshot_version).unwrap()
}

#[tokio::test]
async fn a_dump_is_a_custom_archive_whose_checksums_match_what_the_sink_received() {
    let pg = Postgres::start().await;
    let url = pg.fresh_database().await;
    seed(&url).await;

    let mut sink: Vec<u8> = Vec::new();
    let report = dump_database(&target(&pg, &url), None, &mut sink)
        .await
        .unwrap();

    assert!(sink.starts_with(b"PGDMP"), "not a custom-format archive");
    assert_eq!(report.size, sink.len() as u64);
    assert_eq!(report.sha256_hex, format!("{:x}", Sha256::digest(&sink)));
    assert_eq!(report.crc32c, crc32c::crc32c(&sink));
    assert_eq!(report.row_counts, expected_counts(30));
    assert_eq!(report.server_version / 10_000, 15);
    assert!(report.pg_dump_version.contains("PostgreSQL"), "{report:?}");
}

#[tokio::test]
async fn rows_committed_after_the_snapshot_are_neither_counted_nor_dumped() {
    let pg = Postgres::start().await;
    let url = pg.fresh_database().await;
    let mut other = seed(&url).await;
    let target = target(&pg, &url);

    let snapshot = Snapshot::take(&target).await.unwrap();
    // Another connection commits rows after the snapshot, before pg_dump runs.
    sqlx::query("INSERT INTO items (label) SELECT 'late' FROM generate_series(1, 5)")
        .execute(&mut other)
        .await
        .unwrap();
    let live = scalar(&mut other, "SELECT count(*) FROM items").await;
    assert_eq!(live, 35, "the late rows are committed");

    let pg_dump = pg_dump_for(snapshot.server_version_num()).await;
    let mut sink: Vec<u8> = Vec::new();
    let report = snapshot.dump(&pg_dump, &target, &mut sink).await.unwrap();
    assert_eq!(report.row_counts, expected_counts(30));

    // Restore the archive into a scratch database: it holds the snapshot's rows.
    let archive = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(archive.path(), &sink).unwrap();
    let scratch = pg.fresh_database().await;
    let restore = tokio::process::Command::new(pg_dump.path.with_file_name("pg_restore"))
        .args(["--no-owner", "--exit-on-error", "-d", &scratch])
        .arg(archive.path())
        .output()
        .await
        .unwrap();
    assert!(restore.status.success(), "{restore:?}");
    let mut restored = PgConnection::connect(&scratch).await.unwrap();
    let items = scalar(&mut restored, "SELECT count(*) FROM items").await;
    let late = scalar(
        &mut restored,
        "SELECT count(*) FROM items WHERE label = 'late'",
    )
    .await;
    assert_eq!((items, late), (30, 0));
}

#[tokio::test]
async fn a_failing_pg_dump_reports_its_last_stderr_line_without_the_password() {
    let pg = Postgres::start().await;
    let url = pg.fresh_database().await;
    let mut target = target(&pg, &url);
    target.password = Some("hunter2-do-not-log".to_owned().into());
    let pg_dump = pg_dump_for(150_000).await;

    let mut sink: Vec<u8> = Vec::new();
    let error = run_pg_dump(&pg_dump, &target, "00000003-bogus-1", &mut sink)
        .await
        .unwrap_err();

    let DumpError::PgDumpFailed { last_line, .. } = &error else {
        panic!("expected PgDumpFailed, got {error:?}");
    };
    assert!(
        last_line.contains("invalid snapshot identifier"),
        "{last_line}"
    );
    let everything = format!("{error} {error:?}");
    assert!(!everything.contains("hunter2"), "{everything}");
}

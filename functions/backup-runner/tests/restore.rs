//! Restoring a dump with the crate's own restore: the copy has the source's exact rows
//! (counts and per-table checksums), and an archive that is not whole commits nothing.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use std::collections::BTreeMap;

use backup_runner::dump::Target;
use backup_runner::verify::{restore_archive, row_counts, table_checksums, Expected, VerifyError};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use support::{dumped, seeded_counts, target};
use testbed::Postgres;

async fn fresh(pg: &Postgres) -> Target {
    let url = pg.fresh_database().await;
    target(pg, url.rsplit('/').next().unwrap())
}

/// What a manifest would say about exactly these bytes.
fn expected_of(bytes: &[u8]) -> Expected {
    Expected {
        sha256_hex: format!("{:x}", Sha256::digest(bytes)),
        crc32c: crc32c::crc32c(bytes),
        size: bytes.len() as u64,
        pg_dump_major: 15,
    }
}

/// A seeded source, dumped, then restored into a fresh database.
async fn restored(pg: &Postgres) -> (Target, Target) {
    let (source, archive, manifest) = dumped(pg).await;
    let into = fresh(pg).await;
    let expected = Expected::from_manifest(&manifest);
    let report = restore_archive(archive.as_slice(), &into, None, &expected)
        .await
        .unwrap();
    assert_eq!(report.summary.size, archive.len() as u64);
    (source, into)
}

#[tokio::test]
async fn a_restored_database_has_the_sources_exact_counts_and_checksums() {
    let pg = Postgres::start().await;
    let (source, into) = restored(&pg).await;

    let counts = row_counts(&into).await.unwrap();
    let expected: BTreeMap<String, i64> = seeded_counts()
        .into_iter()
        .map(|(table, count)| (table.to_owned(), count))
        .collect();
    assert_eq!(counts, expected);
    assert_eq!(counts, row_counts(&source).await.unwrap());
    let checksums = table_checksums(&into).await.unwrap();
    assert_eq!(checksums, table_checksums(&source).await.unwrap());
    assert_eq!(checksums.len(), expected.len());
}

#[tokio::test]
async fn a_changed_row_changes_only_its_tables_checksum() {
    let pg = Postgres::start().await;
    let (source, into) = restored(&pg).await;
    let mut conn = PgConnection::connect(&pg.url(&into.database))
        .await
        .unwrap();
    sqlx::query("UPDATE ledger.entries SET amount = amount + 0.01 WHERE id = 7")
        .execute(&mut conn)
        .await
        .unwrap();

    let (before, after) = (
        table_checksums(&source).await.unwrap(),
        table_checksums(&into).await.unwrap(),
    );
    let differing: Vec<&String> = before
        .keys()
        .filter(|table| before.get(*table) != after.get(*table))
        .collect();
    assert_eq!(differing, ["ledger.entries"]);
}

#[tokio::test]
async fn a_truncated_archive_fails_in_pg_restore_even_with_matching_checksums() {
    let pg = Postgres::start().await;
    let (_source, archive, _manifest) = dumped(&pg).await;

    for cut in [archive.len() - 1, archive.len() * 9 / 10, archive.len() / 2] {
        let into = fresh(&pg).await;
        let truncated = &archive[..cut];
        let error = restore_archive(truncated, &into, None, &expected_of(truncated))
            .await
            .unwrap_err();
        assert!(
            matches!(error, VerifyError::PgRestoreFailed { .. }),
            "cut at {cut}: {error:?}"
        );
        // One transaction: nothing of the partial restore stays.
        assert_eq!(
            row_counts(&into).await.unwrap(),
            BTreeMap::new(),
            "cut at {cut}"
        );
    }
}

#[tokio::test]
async fn an_archive_that_differs_from_its_manifest_commits_nothing() {
    let pg = Postgres::start().await;
    let (_source, archive, manifest) = dumped(&pg).await;
    let into = fresh(&pg).await;
    let mut expected = Expected::from_manifest(&manifest);
    expected.sha256_hex = "0".repeat(64);

    let error = restore_archive(archive.as_slice(), &into, None, &expected)
        .await
        .unwrap_err();

    assert!(
        matches!(error, VerifyError::Mismatch { what: "sha256", .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    // pg_restore was stopped before it saw the end of its input, so it never committed.
    assert_eq!(row_counts(&into).await.unwrap(), BTreeMap::new());
}

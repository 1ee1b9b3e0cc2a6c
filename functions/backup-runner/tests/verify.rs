//! Verification against a real PostgreSQL: an intact dump passes; a truncated, corrupted or
//! miscounted one fails with a reason; no scratch database outlives a verification.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use backup_runner::verify::{drop_leftover_scratch, verify_backup, Mismatch, VERIFICATION_FORMAT};
use sqlx::{Connection, PgConnection};
use support::{admin, dumped, scratch_databases, seeded_counts};
use testbed::Postgres;

#[tokio::test]
async fn an_intact_dump_passes_and_leaves_no_scratch_database() {
    let pg = Postgres::start().await;
    let (_source, archive, manifest) = dumped(&pg).await;

    let record = verify_backup(archive.as_slice(), &manifest, &admin(&pg), None)
        .await
        .unwrap();

    assert!(record.passed, "{record:?}");
    assert_eq!(record.reason, None);
    assert_eq!(record.mismatches, Vec::<Mismatch>::new());
    assert_eq!(record.tables_checked, seeded_counts().len());
    assert_eq!(record.format, VERIFICATION_FORMAT);
    assert_eq!(record.backup_id, manifest.backup_id);
    assert_eq!(record.object, manifest.object);
    assert!(
        record.pg_restore_version.contains("pg_restore"),
        "{record:?}"
    );
    assert_eq!(scratch_databases(&pg).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_dump_truncated_anywhere_fails_and_leaves_no_scratch_database() {
    let pg = Postgres::start().await;
    let (_source, archive, manifest) = dumped(&pg).await;
    let len = archive.len();

    for cut in [len - 1, len / 2, len / 10, 0] {
        let record = verify_backup(&archive[..cut], &manifest, &admin(&pg), None)
            .await
            .unwrap();
        assert!(!record.passed, "cut at {cut} of {len} passed");
        let reason = record.reason.unwrap_or_default();
        assert!(reason.contains("size"), "cut at {cut}: {reason}");
        assert_eq!(scratch_databases(&pg).await, Vec::<String>::new());
    }
}

#[tokio::test]
async fn one_flipped_byte_fails_on_the_checksum() {
    let pg = Postgres::start().await;
    let (_source, mut archive, manifest) = dumped(&pg).await;
    let middle = archive.len() / 2;
    archive[middle] ^= 0x01;

    let record = verify_backup(archive.as_slice(), &manifest, &admin(&pg), None)
        .await
        .unwrap();

    assert!(!record.passed);
    let reason = record.reason.unwrap_or_default();
    assert!(reason.contains("sha256"), "{reason}");
    assert_eq!(scratch_databases(&pg).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_count_that_differs_from_the_manifest_fails_naming_the_table() {
    let pg = Postgres::start().await;
    let (_source, archive, mut manifest) = dumped(&pg).await;
    manifest.row_counts.insert("ledger.entries".into(), 52);
    manifest.row_counts.insert("public.vanished".into(), 3);

    let record = verify_backup(archive.as_slice(), &manifest, &admin(&pg), None)
        .await
        .unwrap();

    assert!(!record.passed);
    assert_eq!(
        record.mismatches,
        vec![
            Mismatch {
                table: "ledger.entries".into(),
                expected: Some(52),
                found: Some(51),
            },
            Mismatch {
                table: "public.vanished".into(),
                expected: Some(3),
                found: None,
            },
        ]
    );
    let reason = record.reason.unwrap_or_default();
    assert!(
        reason.contains("ledger.entries expected 52, found 51"),
        "{reason}"
    );
    assert_eq!(scratch_databases(&pg).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_error_not_a_failed_verification() {
    let pg = Postgres::start().await;
    let (_source, archive, manifest) = dumped(&pg).await;
    let mut down = admin(&pg);
    down.port = testbed::free_port();

    let error = verify_backup(archive.as_slice(), &manifest, &down, None)
        .await
        .unwrap_err();

    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn the_sweep_drops_only_our_scratch_databases_older_than_an_hour() {
    let pg = Postgres::start().await;
    let mut conn = PgConnection::connect(&pg.admin_url()).await.unwrap();
    let marked = |age: chrono::Duration| {
        let created = (chrono::Utc::now() - age).format("%Y-%m-%dT%H:%M:%SZ");
        format!("managed-by=groundskeeper purpose=verify created={created}")
    };
    let databases = [
        (
            "gk_verify_old_0123abcd",
            Some(marked(chrono::Duration::hours(2))),
        ),
        (
            "gk_verify_fresh_0123abcd",
            Some(marked(chrono::Duration::minutes(10))),
        ),
        ("gk_verify_unmarked_0123abcd", None),
        (
            "gk_verify_forged_0123abcd",
            Some("created=2001-01-01T00:00:00Z".into()),
        ),
    ];
    for (name, comment) in &databases {
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        if let Some(comment) = comment {
            sqlx::raw_sql(&format!("COMMENT ON DATABASE {name} IS '{comment}'"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }

    let dropped = drop_leftover_scratch(&admin(&pg)).await.unwrap();

    assert_eq!(dropped, vec!["gk_verify_old_0123abcd".to_owned()]);
    let mut left = scratch_databases(&pg).await;
    left.sort();
    assert_eq!(
        left,
        [
            "gk_verify_forged_0123abcd",
            "gk_verify_fresh_0123abcd",
            "gk_verify_unmarked_0123abcd"
        ]
    );
}

#[tokio::test]
async fn a_dump_that_matches_its_manifest_but_does_not_restore_fails_without_the_password() {
    const PASSWORD: &str = "hunter2-Vq7-never-logged";
    let pg = Postgres::start().await;
    let (_source, archive, mut manifest) = dumped(&pg).await;
    // A manifest describing a truncated dump: only a full restore can tell it is broken.
    let truncated = &archive[..archive.len() * 9 / 10];
    manifest.size = truncated.len() as u64;
    manifest.sha256 = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(truncated));
    manifest.crc32c = crc32c::crc32c(truncated);
    let mut conn = PgConnection::connect(&pg.admin_url()).await.unwrap();
    sqlx::raw_sql(&format!(
        "CREATE ROLE verifier LOGIN CREATEDB PASSWORD '{PASSWORD}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    pg.require_passwords().await;
    let mut verifier = admin(&pg);
    verifier.user = "verifier".into();
    verifier.password = Some(PASSWORD.to_owned().into());

    let record = verify_backup(truncated, &manifest, &verifier, None)
        .await
        .unwrap();

    assert!(!record.passed);
    let reason = record.reason.clone().unwrap_or_default();
    assert!(reason.contains("pg_restore failed"), "{reason}");
    let json = String::from_utf8(record.to_json()).unwrap();
    assert!(!json.contains(PASSWORD), "{json}");
    assert_eq!(scratch_databases(&pg).await, Vec::<String>::new());
}

//! Choosing a pg_dump: it must be at least the server's major version.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::PathBuf;

use backup_runner::dump::{discover_pg_dumps, pg_dump_major, select_pg_dump, DumpError, PgDump};

fn installed(majors: &[u32]) -> Vec<PgDump> {
    majors
        .iter()
        .map(|major| PgDump {
            path: PathBuf::from(format!("/usr/lib/postgresql/{major}/bin/pg_dump")),
            major: *major,
            version: format!("pg_dump (PostgreSQL) {major}.1"),
        })
        .collect()
}

#[test]
fn a_server_newer_than_every_installed_pg_dump_is_refused_naming_both_versions() {
    let error = select_pg_dump(&installed(&[13, 15]), 160_002).unwrap_err();
    assert!(
        matches!(&error, DumpError::NoCompatiblePgDump { server_major: 16, installed } if installed == &[13, 15]),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("16") && message.contains("15"),
        "{message}"
    );
}

#[test]
fn the_newest_pg_dump_at_least_the_servers_major_is_chosen() {
    let chosen = select_pg_dump(&installed(&[14, 16, 15]), 150_010).unwrap();
    assert_eq!(chosen.major, 16);
    let chosen = select_pg_dump(&installed(&[15]), 150_010).unwrap();
    assert_eq!(chosen.major, 15);
    assert!(select_pg_dump(&installed(&[13, 14]), 150_010).is_err());
    assert!(select_pg_dump(&[], 150_010).is_err());
}

#[test]
fn version_lines_give_their_major() {
    assert_eq!(
        pg_dump_major("pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)"),
        Some(15)
    );
    assert_eq!(pg_dump_major("pg_dump (PostgreSQL) 9.6.24"), Some(9));
    assert_eq!(pg_dump_major("pg_dump (PostgreSQL) 17beta1"), Some(17));
    assert_eq!(pg_dump_major("something else 15.1"), None);
}

#[tokio::test]
async fn the_installed_pg_dump_is_found_with_its_version() {
    let found = discover_pg_dumps(None).await;
    assert!(
        found.iter().any(|pg_dump| pg_dump.major >= 15),
        "no pg_dump >= 15 found: {found:?}"
    );
    let paths: Vec<_> = found
        .iter()
        .map(|p| p.path.canonicalize().unwrap())
        .collect();
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(paths.len(), unique.len(), "the same binary listed twice");
}

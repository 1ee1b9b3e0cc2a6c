//! Which `pg_restore` to run: one at least as new as the `pg_dump` that wrote the archive
//! (pg_restore refuses archive formats newer than its own).

use std::path::Path;

use super::VerifyError;
use crate::dump::{discover_pg_tools, newest_at_least, PgDump};

/// Finds the installed `pg_restore` binaries: `configured` first, then each `PATH` entry,
/// then `/usr/lib/postgresql/*/bin/pg_restore`.
pub async fn discover_pg_restores(configured: Option<&Path>) -> Vec<PgDump> {
    discover_pg_tools("pg_restore", configured).await
}

/// Picks the newest installed `pg_restore` whose major is at least `archive_major`, the
/// major of the `pg_dump` that wrote the archive.
pub fn select_pg_restore(installed: &[PgDump], archive_major: u32) -> Result<PgDump, VerifyError> {
    newest_at_least(installed, archive_major).ok_or_else(|| VerifyError::NoCompatiblePgRestore {
        archive_major,
        installed: installed.iter().map(|tool| tool.major).collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn installed(majors: &[u32]) -> Vec<PgDump> {
        majors
            .iter()
            .map(|major| PgDump {
                path: PathBuf::from(format!("/usr/lib/postgresql/{major}/bin/pg_restore")),
                major: *major,
                version: format!("pg_restore (PostgreSQL) {major}.1"),
            })
            .collect()
    }

    #[test]
    fn the_newest_pg_restore_at_least_the_archives_major_is_chosen() {
        let chosen = select_pg_restore(&installed(&[14, 16, 15]), 15);
        assert_eq!(chosen.map(|tool| tool.major).ok(), Some(16));
        let chosen = select_pg_restore(&installed(&[15]), 15);
        assert_eq!(chosen.map(|tool| tool.major).ok(), Some(15));
    }

    #[test]
    fn an_archive_newer_than_every_pg_restore_is_refused_naming_both_versions() {
        let error = select_pg_restore(&installed(&[13, 15]), 16).err();
        let message = error.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(
            matches!(&error, Some(VerifyError::NoCompatiblePgRestore { archive_major: 16, installed }) if installed == &[13, 15]),
            "{error:?}"
        );
        assert!(
            message.contains("16") && message.contains("15"),
            "{message}"
        );
        assert!(!error.is_some_and(|error| error.is_retryable()));
    }
}

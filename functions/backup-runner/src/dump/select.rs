//! Which `pg_dump` to run: pg_dump refuses a server of a newer major version than its own,
//! and several majors may be installed side by side (Debian's `/usr/lib/postgresql/N/bin`).

use std::path::{Path, PathBuf};

use super::DumpError;

/// An installed `pg_dump` and the version it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgDump {
    /// The executable.
    pub path: PathBuf,
    /// Its major version (15 for "15.10").
    pub major: u32,
    /// Its full `--version` line, for the report.
    pub version: String,
}

/// Finds the installed `pg_dump` binaries: `configured` first, then each `PATH` entry, then
/// `/usr/lib/postgresql/*/bin/pg_dump`. Binaries whose version cannot be read are skipped.
///
/// Remembered per process and `configured` path: asking every candidate its `--version`
/// costs about 100 ms (Debian's wrappers are Perl), once per backup otherwise.
pub async fn discover_pg_dumps(configured: Option<&Path>) -> Vec<PgDump> {
    type Known = std::sync::Mutex<std::collections::HashMap<Option<PathBuf>, Vec<PgDump>>>;
    static KNOWN: std::sync::OnceLock<Known> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    let key = configured.map(Path::to_owned);
    if let Some(found) = known.lock().ok().and_then(|k| k.get(&key).cloned()) {
        return found;
    }
    let found = discover_pg_tools("pg_dump", configured).await;
    if let Ok(mut known) = known.lock() {
        known.insert(key, found.clone());
    }
    found
}

/// Finds the installed binaries of the PostgreSQL client `tool` (`pg_dump`, `pg_restore`)
/// the way [`discover_pg_dumps`] does; their `--version` lines have the same shape.
pub(crate) async fn discover_pg_tools(tool: &str, configured: Option<&Path>) -> Vec<PgDump> {
    let mut candidates: Vec<PathBuf> = configured.map(Path::to_owned).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join(tool)));
    }
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versioned: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path().join("bin").join(tool))
            .collect();
        versioned.sort();
        candidates.extend(versioned);
    }
    let mut distinct: Vec<PathBuf> = Vec::new();
    for path in candidates.into_iter().filter(|path| path.is_file()) {
        if !distinct.iter().any(|known| same_file(known, &path)) {
            distinct.push(path);
        }
    }
    // Asked all at once: each answer is a process start (Debian's Perl wrapper ~50 ms, the
    // binary itself ~10 ms), and a backup waits for the slowest, not for their sum.
    futures::future::join_all(distinct.into_iter().map(read_version))
        .await
        .into_iter()
        .flatten()
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

async fn read_version(path: PathBuf) -> Option<PgDump> {
    let output = tokio::process::Command::new(&path)
        .arg("--version")
        .output()
        .await
        .ok()?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let major = pg_dump_major(&version)?;
    Some(PgDump {
        path,
        major,
        version,
    })
}

/// The major version in a `pg_dump --version` line ("pg_dump (PostgreSQL) 15.10 (Debian …)"
/// → 15; "pg_dump (PostgreSQL) 9.6.24" → 9, matching `server_version_num / 10000`).
pub fn pg_dump_major(version_line: &str) -> Option<u32> {
    let number = version_line
        .split_whitespace()
        .skip_while(|word| *word != "(PostgreSQL)")
        .nth(1)?;
    let major: String = number.chars().take_while(char::is_ascii_digit).collect();
    major.parse().ok()
}

/// Picks the newest installed `pg_dump` whose major is at least the server's
/// (`server_version_num`, as `SHOW server_version_num` reports it: 150010 for 15.10).
pub fn select_pg_dump(installed: &[PgDump], server_version_num: u32) -> Result<PgDump, DumpError> {
    let server_major = server_version_num / 10_000;
    newest_at_least(installed, server_major).ok_or_else(|| DumpError::NoCompatiblePgDump {
        server_major,
        installed: installed.iter().map(|pg_dump| pg_dump.major).collect(),
    })
}

/// The newest of `installed` whose major is at least `major`: client tools read and talk to
/// older versions, never newer ones.
pub(crate) fn newest_at_least(installed: &[PgDump], major: u32) -> Option<PgDump> {
    installed
        .iter()
        .filter(|tool| tool.major >= major)
        .max_by_key(|tool| tool.major)
        .cloned()
}

//! The control database's migrations: the runtime's own ([`MIGRATOR`]) and, merged with a
//! service's, what that service's `migrate` applies ([`control_migrator`]).

use sqlx::migrate::{Migration, Migrator};

/// The runtime's own control-database migrations: the ledger, its claims and the local secret
/// store. Each service owns its tables' migrations (`functions/<name>/migrations/`) and its
/// `migrate` runs both through [`control_migrator`]; the version numbers are one sequence
/// across the workspace (see `shared/migrations/README.md`).
///
/// Versions it does not know (another service's) are ignored, not refused: every service
/// migrates the same database, in any order.
pub static MIGRATOR: Migrator = Migrator {
    ignore_missing: true,
    ..sqlx::migrate!("./migrations")
};

/// Two migrations, the runtime's and a service's, claim the same version number.
#[derive(Debug, thiserror::Error)]
#[error("migration version {0} is taken twice (the runtime's and the service's): renumber the service's to the next free version")]
pub struct VersionClash(pub i64);

/// The runtime's [`MIGRATOR`] followed, in version order, by a service's own migrations:
/// what that service's `migrate` applies. Versions applied by other services are ignored, so
/// services migrate one database in any order; an applied version whose file changed is still
/// refused (sqlx compares checksums).
pub fn control_migrator(service: &Migrator) -> Result<Migrator, VersionClash> {
    let mut migrations: Vec<Migration> = MIGRATOR.iter().chain(service.iter()).cloned().collect();
    migrations.sort_by_key(|m| m.version);
    if let Some(pair) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(VersionClash(pair[0].version));
    }
    Ok(Migrator {
        migrations: migrations.into(),
        ignore_missing: true,
        ..Migrator::DEFAULT
    })
}

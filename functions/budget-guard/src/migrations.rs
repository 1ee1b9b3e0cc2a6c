//! budget-guard's own control-database tables (budget levels and suspended resources): their
//! migrations live in this crate's `migrations/` and run, after the runtime's, in
//! `budget-guard migrate`. Version numbers follow the workspace-wide rule in
//! `shared/migrations/README.md`.

use sqlx::migrate::Migrator;

/// This service's migrations alone; `shared::migrations::control_migrator` adds the runtime's.
pub static MIGRATOR: Migrator = sqlx::migrate!();

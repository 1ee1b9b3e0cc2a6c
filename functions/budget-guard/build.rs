//! Rebuild when a migration is added: `sqlx::migrate!` embeds `migrations/` but does not
//! tell cargo to watch it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

//! `sqlx::migrate!` embeds `migrations/` at compile time but does not tell cargo to watch the
//! directory, so a new migration file would not rebuild this crate without this.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

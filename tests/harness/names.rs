//! Unique names and free ports, so parallel tests never collide.

/// `prefix` plus a random suffix, valid as a Pub/Sub topic or subscription id, a bucket
/// name and (with `-` read as part of a quoted identifier) a database name: lowercase
/// letters, digits and `-`, e.g. `orders-3f9c2a71b0d4`.
pub fn unique_name(prefix: &str) -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &suffix[..12])
}

/// A TCP port on 127.0.0.1 that was free a moment ago (see
/// `local_components::ports::free_port`).
pub fn free_port() -> u16 {
    local_components::ports::free_port().expect("bind 127.0.0.1:0")
}

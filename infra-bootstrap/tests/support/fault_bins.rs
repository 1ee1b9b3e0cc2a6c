//! The binaries the fault suite runs: every service built with `fault-injection` (so that
//! `GROUNDSKEEPER_CRASH_AT` arms its crash points) and the `groundskeeper` under test, copied
//! together into a directory of the suite's own.
//!
//! Why a build of its own: `cargo build --bins` (what `scripts/test.sh`, `make demo` and the
//! other end-to-end tests run) builds the services without the feature, while a test build
//! of a service's own crate turns it on through its dev-dependency on itself, so whichever
//! ran last decides what `target/debug/env-provisioner` is. Copying right after building
//! keeps another test's (or worktree's) rebuild from swapping binaries mid-suite; the copy is
//! then checked for the feature.
#![allow(clippy::unwrap_used, dead_code)] // test code: a panic is the failure report

use std::path::Path;

/// The services whose crates have a `fault-injection` feature (the ones with crash points).
pub const WITH_CRASH_POINTS: [&str; 2] = ["env-provisioner", "secret-rotator"];

/// Builds and copies; the directory holds `groundskeeper` and every built service.
pub fn fault_binaries() -> tempfile::TempDir {
    let ours = Path::new(env!("CARGO_BIN_EXE_groundskeeper"));
    let profile_dir = ours.parent().unwrap();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let features: Vec<String> = WITH_CRASH_POINTS
        .iter()
        .map(|s| format!("{s}/fault-injection"))
        .collect();
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--bins"])
        .args(events::platform::built().flat_map(|spec| ["-p", spec.name]))
        .args(["--features", &features.join(",")])
        .args(["--profile", profile, "--target-dir"])
        .arg(profile_dir.parent().unwrap())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the services with fault-injection failed");
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::copy(ours, dir.path().join("groundskeeper")).unwrap();
    for spec in events::platform::built() {
        std::fs::copy(profile_dir.join(spec.name), dir.path().join(spec.name)).unwrap();
    }
    for service in WITH_CRASH_POINTS {
        assert!(
            has_crash_hook(&dir.path().join(service)),
            "{service} was copied without fault-injection (rebuilt by someone else meanwhile?)"
        );
    }
    dir
}

/// Whether a binary carries the process-level crash hook (its variable's name is in it only
/// with the feature).
pub fn has_crash_hook(binary: &Path) -> bool {
    let bytes = std::fs::read(binary).unwrap();
    let needle = shared::crash_point::CRASH_AT_VARIABLE.as_bytes();
    bytes.windows(needle.len()).any(|w| w == needle)
}

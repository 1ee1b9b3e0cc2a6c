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

/// The services whose crates have a `fault-injection` feature (the ones with crash points),
/// read from their manifests as `scripts/test.sh` does.
pub fn with_crash_points() -> Vec<&'static str> {
    events::platform::built()
        .map(|spec| spec.name)
        .filter(|name| {
            let manifest = format!(
                "{}/../functions/{name}/Cargo.toml",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::read_to_string(manifest)
                .unwrap()
                .lines()
                .any(|l| l.starts_with("fault-injection ="))
        })
        .collect()
}

/// Builds and copies; the directory holds `groundskeeper` and every built service.
pub fn fault_binaries() -> tempfile::TempDir {
    let ours = Path::new(env!("CARGO_BIN_EXE_groundskeeper"));
    let profile_dir = ours.parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::copy(ours, dir.path().join("groundskeeper")).unwrap();
    // Another test's plain build may re-link the binaries between our build and our copy;
    // then the copy lacks the hook, and building again (a no-op re-link) fixes it.
    for _ in 0..3 {
        build(profile_dir);
        for spec in events::platform::built() {
            std::fs::copy(profile_dir.join(spec.name), dir.path().join(spec.name)).unwrap();
        }
        if with_crash_points()
            .iter()
            .all(|s| has_crash_hook(&dir.path().join(s)))
        {
            return dir;
        }
    }
    panic!("the services keep being rebuilt without fault-injection by someone else");
}

/// `cargo build` of every service with the crash points' feature: the command
/// `scripts/test.sh` runs before the tests, so that here it is a no-op.
fn build(profile_dir: &Path) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let features: Vec<String> = with_crash_points()
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
    assert!(
        status.success(),
        "building the services with fault-injection failed"
    );
}

/// Whether a binary carries the process-level crash hook (its variable's name is in it only
/// with the feature).
pub fn has_crash_hook(binary: &Path) -> bool {
    let bytes = std::fs::read(binary).unwrap();
    let needle = shared::crash_point::CRASH_AT_VARIABLE.as_bytes();
    bytes.windows(needle.len()).any(|w| w == needle)
}

//! The service binaries the end-to-end tests start, refreshed next to ours.

use std::path::{Path, PathBuf};

/// Cargo builds only this package's binaries for its tests, so build the services into the
/// same target directory with the command `scripts/test.sh` and `make demo` use (a quick
/// no-op when they are fresh). Returns the directory holding them.
pub fn build_services() -> PathBuf {
    let ours = Path::new(env!("CARGO_BIN_EXE_groundskeeper"));
    let profile_dir = ours.parent().expect("binary directory");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let status = std::process::Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--bins"])
        // Every service the local stack runs: the registry's built ones.
        .args(events::platform::built().flat_map(|spec| ["-p", spec.name]))
        .args(["--profile", profile, "--target-dir"])
        .arg(profile_dir.parent().expect("target directory"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the services failed");
    profile_dir.to_path_buf()
}

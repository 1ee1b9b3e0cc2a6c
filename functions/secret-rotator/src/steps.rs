//! The protocol's side effects, one function per step. Each is idempotent or guarded by what
//! the rotation record says, so [`crate::rotate`] can run any of them again after a crash.

use std::sync::Arc;

use events::names::DbIdent;
use shared::backends::databases::DbError;
use shared::backends::secrets::{SecretInfo, SecretStore, VersionState};
use shared::Ctx;

use shared::credential::Credential;

use crate::credential::other_role;
use crate::error::StepError;
use crate::login::Login;
use crate::registry::Mode;
use crate::Config;

/// One secret's rotation: what every step needs.
pub struct Rotor<'a> {
    /// The handler's context.
    pub ctx: &'a Ctx,
    /// Settings.
    pub config: &'a Config,
    /// The secret's name.
    pub secret: &'a str,
    /// Alternating or single-user.
    pub mode: Mode,
    /// The secret store.
    pub secrets: &'a Arc<dyn SecretStore>,
}

impl Rotor<'_> {
    pub(crate) async fn info(&self) -> Result<SecretInfo, StepError> {
        self.secrets
            .get_secret(self.secret)
            .await?
            .ok_or_else(|| StepError::permanent(format!("secret {} vanished", self.secret)))
    }

    pub(crate) async fn read(&self, version: u64) -> Result<Credential, StepError> {
        let payload = self
            .secrets
            .access(self.secret, &version.to_string())
            .await?;
        Credential::parse(&payload)
            .map_err(|e| StepError::permanent(format!("version {version}: {e}")))
    }

    /// **check**: the `current` credential logs in; returns its version and the role the new
    /// password goes on.
    pub async fn check(&self) -> Result<(u64, DbIdent), StepError> {
        let info = self.info().await?;
        let base = info.alias("current").ok_or_else(|| {
            StepError::permanent("no version is aliased `current`: nothing to rotate from")
        })?;
        let current = self.read(base).await?;
        current
            .login(self.config.require_tls, None)
            .await
            .map_err(|e| match e {
                DbError::LoginFailed { .. } => StepError::permanent(format!(
                    "the current credential (version {base}) does not authenticate, so it is not rotated over blindly: {e}"
                )),
                other => other.into(),
            })?;
        let target = match self.mode {
            Mode::SingleUser | Mode::Manual => current.user.clone(),
            Mode::Alternating => other_role(&current.user).ok_or_else(|| {
                StepError::permanent(format!(
                    "user {} is not one of an `_a` / `_b` pair; label the secret rotation=single-user",
                    current.user
                ))
            })?,
        };
        Ok((base, target))
    }

    /// **create**, part one: the new credential as a version of its own. A version a crashed
    /// attempt added but never recorded is adopted when it holds the password whose digest
    /// this rotation recorded before adding it (`intended`), so a resumed rotation adds no
    /// second version; any other unrecorded version — one someone else added, or a crashed
    /// attempt's that cannot be told apart — is disabled, never adopted: whoever may add a
    /// version must not choose the next database password. The caller records the result
    /// before anything else happens to it.
    pub async fn add_pending(
        &self,
        base: u64,
        target: &DbIdent,
        intended: Option<&str>,
    ) -> Result<u64, StepError> {
        let info = self.info().await?;
        let current = info.alias("current");
        let mut orphans: Vec<u64> = info
            .versions
            .iter()
            .filter(|v| v.version > base && v.state == VersionState::Enabled)
            .map(|v| v.version)
            .filter(|v| Some(*v) != current)
            .collect();
        orphans.sort_unstable();
        let from = self.read(base).await?;
        let adopted = match (orphans.last(), intended) {
            (Some(&newest), Some(digest))
                if self.is_intended(newest, &from, target, digest).await =>
            {
                orphans.pop();
                Some(newest)
            }
            _ => None,
        };
        for orphan in orphans {
            self.secrets.disable_version(self.secret, orphan).await?;
            tracing::info!(
                secret = self.secret,
                version = orphan,
                "disabled an orphaned version"
            );
        }
        if let Some(version) = adopted {
            tracing::info!(
                secret = self.secret,
                version,
                "adopted the version a crashed attempt added"
            );
            return Ok(version);
        }
        let new = from.with(
            target.clone(),
            shared::password::generate(self.config.password_length),
        );
        let pool = self.ctx.control_db()?;
        crate::state::intend(pool, self.secret, &digest(&new)).await?;
        Ok(self
            .secrets
            .add_version(self.secret, &new.to_payload())
            .await?)
    }

    /// Whether `version` holds what this rotation was about to add: `from`'s server and
    /// database, for `target`, with the password of digest `intended`.
    async fn is_intended(
        &self,
        version: u64,
        from: &Credential,
        target: &DbIdent,
        intended: &str,
    ) -> bool {
        self.read(version).await.is_ok_and(|c| {
            c.user == *target
                && c.host == from.host
                && c.port == from.port
                && c.database == from.database
                && digest(&c) == intended
        })
    }

    /// **create**, part two: alias `pending` → the recorded new version.
    pub async fn alias_pending(&self, pending: u64) -> Result<(), StepError> {
        self.update_aliases(
            |aliases| Ok(aliases.insert("pending".into(), pending) != Some(pending)),
        )
        .await
    }

    /// **set**: the new password on the target role. Alternating: by the admin, on the role
    /// nobody uses. Single-user: the role changes its own password, logged in with the old
    /// one; after a crash the old one may already be gone, which the new one logging in shows.
    pub async fn set(&self, base: u64, pending: u64, target: &DbIdent) -> Result<(), StepError> {
        let new = self.read(pending).await?;
        if new.user != *target {
            return Err(StepError::permanent(format!(
                "version {pending} is for {}, not {target}",
                new.user
            )));
        }
        if self.mode == Mode::Alternating {
            return Ok(self
                .ctx
                .databases()?
                .set_password(target, &new.password)
                .await?);
        }
        let sql = crate::restore::own_password_sql(&new.password)?;
        let tls = self.config.require_tls;
        match self.read(base).await?.login(tls, Some(&sql)).await {
            Err(DbError::LoginFailed { .. }) if new.login(tls, None).await.is_ok() => Ok(()),
            other => Ok(other?),
        }
    }

    /// **test**: the new credential logs in, as a client would (TLS rules included).
    pub async fn test(&self, pending: u64) -> Result<(), StepError> {
        let new = self.read(pending).await?;
        new.login(self.config.require_tls, None)
            .await
            .map_err(|e| match e {
                DbError::LoginFailed { .. } | DbError::Refused { .. } => StepError::permanent(
                    format!("the new credential (version {pending}) does not work: {e}"),
                ),
                other => other.into(),
            })
    }
}

/// The SHA-256 (hex) of a credential's password: what `create` records before adding it.
fn digest(credential: &Credential) -> String {
    use secrecy::ExposeSecret as _;
    use sha2::{Digest as _, Sha256};
    format!(
        "{:x}",
        Sha256::digest(credential.password.expose_secret().as_bytes())
    )
}

//! Single-user mode's way back: after `set`, the role's password is the pending version's,
//! so abandoning the rotation must put the database back in line with `current` before the
//! pending version is disabled — "current always works" holds in both modes.

use secrecy::SecretString;
use shared::backends::databases::scram;

use crate::error::StepError;
use crate::login::Login;
use crate::registry::Mode;
use crate::steps::Rotor;

/// SQL with which a logged-in role sets its own password to `password`, as a SCRAM verifier
/// (never in clear text). The login may have switched to an owner role (`ALTER ROLE … SET
/// role`, which RESET ROLE would restore), and only the session user may change its own
/// password.
pub(crate) fn own_password_sql(password: &SecretString) -> Result<String, StepError> {
    let invalid = |e: String| StepError::permanent(format!("unusable password: {e}"));
    let verifier = scram::verifier(password).map_err(|e| invalid(e.to_string()))?;
    let literal = scram::quote_literal(&verifier).ok_or_else(|| invalid("NUL".into()))?;
    Ok(format!(
        "SET ROLE NONE; ALTER ROLE SESSION_USER WITH PASSWORD {literal}"
    ))
}

impl Rotor<'_> {
    /// Single-user mode, before `pending` is abandoned: if `current` no longer logs in
    /// because `set` already gave the role the pending password, log in with the pending one
    /// and set the role's password back to `current`'s. Nothing to do in alternating mode
    /// (the role in use was never touched) or when `current` works.
    pub(crate) async fn restore_current(&self, pending: u64) -> Result<(), StepError> {
        if self.mode != Mode::SingleUser {
            return Ok(());
        }
        let info = self.info().await?;
        let Some(version) = info.alias("current").filter(|c| *c != pending) else {
            return Ok(());
        };
        let tls = self.config.require_tls;
        let current = self.read(version).await?;
        if current.login(tls, None).await.is_ok() {
            return Ok(());
        }
        let new = self.read(pending).await?;
        if new.user != current.user {
            return Err(StepError::permanent(format!(
                "`current` (version {version}) is for {}, the pending version for {}: the \
                 password of {} is left as the pending version's",
                current.user, new.user, new.user
            )));
        }
        let sql = own_password_sql(&current.password)?;
        new.login(tls, Some(&sql)).await?;
        tracing::info!(
            secret = self.secret,
            version,
            "single-user: the role's password is `current`'s again"
        );
        Ok(())
    }
}

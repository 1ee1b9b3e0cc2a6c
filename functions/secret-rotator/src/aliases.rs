//! The alias moves of a rotation: **finish**'s promotion, and dropping an abandoned
//! `pending`. Every change goes through the secret's etag.

use std::collections::BTreeMap;

use shared::backends::secrets::SecretError;

use crate::error::StepError;
use crate::steps::Rotor;

impl Rotor<'_> {
    /// **finish**: `current` → the new version, `previous` → the old one, `pending` removed,
    /// in one etag-guarded update. Done already is fine; someone else's move of `current` is
    /// not overwritten.
    pub async fn promote(&self, base: u64, pending: u64) -> Result<(), StepError> {
        self.update_aliases(|aliases| match aliases.get("current").copied() {
            Some(c) if c == pending => Ok(false),
            Some(c) if c == base => {
                aliases.insert("current".into(), pending);
                aliases.insert("previous".into(), base);
                aliases.remove("pending");
                Ok(true)
            }
            other => Err(StepError::permanent(format!(
                "`current` moved to {other:?} during the rotation (from version {base}); it is left alone"
            ))),
        })
        .await
    }

    /// After a failure: the untested or failed new version loses `pending` and is disabled,
    /// once `current` works again (single-user mode may have to set its password back).
    pub async fn abandon(&self, pending: Option<u64>) -> Result<(), StepError> {
        let Some(pending) = pending else {
            return Ok(());
        };
        self.restore_current(pending).await?;
        self.update_aliases(|aliases| {
            let ours = aliases.get("pending") == Some(&pending);
            Ok(ours && aliases.remove("pending").is_some())
        })
        .await?;
        if self.info().await?.alias("current") != Some(pending) {
            self.secrets.disable_version(self.secret, pending).await?;
        }
        Ok(())
    }

    /// Applies `change` to the alias map under its etag, re-reading on a conflict. `change`
    /// returns whether it changed anything.
    pub(crate) async fn update_aliases(
        &self,
        change: impl Fn(&mut BTreeMap<String, u64>) -> Result<bool, StepError>,
    ) -> Result<(), StepError> {
        for _ in 0..5 {
            let info = self.info().await?;
            let mut aliases = info.aliases.clone();
            if !change(&mut aliases)? {
                return Ok(());
            }
            match self
                .secrets
                .update_aliases(self.secret, &aliases, &info.etag)
                .await
            {
                Err(SecretError::Conflict { .. }) => continue,
                other => return Ok(other.map(drop)?),
            }
        }
        Err(StepError {
            retryable: true,
            reason: "the aliases kept changing concurrently".into(),
        })
    }
}

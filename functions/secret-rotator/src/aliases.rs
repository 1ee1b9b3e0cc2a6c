//! The alias moves of a rotation: **finish**'s promotion, and dropping an abandoned
//! `pending`. Every change goes through the secret's etag.

use std::collections::BTreeMap;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

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
    ///
    /// The retry (`backon`: exponential, jittered, bounded) wraps the whole read-modify-write:
    /// resending a write with a stale etag fails however often it is sent. Only a conflict is
    /// retried; jitter keeps two replicas racing on one secret from colliding again in step.
    /// Four retries from 50 ms stay far below the push acknowledgement deadline.
    pub(crate) async fn update_aliases(
        &self,
        change: impl Fn(&mut BTreeMap<String, u64>) -> Result<bool, StepError>,
    ) -> Result<(), StepError> {
        let attempt = || async {
            let info = self.info().await.map_err(Failure::Other)?;
            let mut aliases = info.aliases.clone();
            if !change(&mut aliases).map_err(Failure::Other)? {
                return Ok(());
            }
            match self
                .secrets
                .update_aliases(self.secret, &aliases, &info.etag)
                .await
            {
                Err(SecretError::Conflict { .. }) => Err(Failure::Conflict),
                other => other.map(drop).map_err(|e| Failure::Other(e.into())),
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(50))
            .with_max_times(4)
            .with_jitter();
        match attempt
            .retry(backoff)
            .when(|f| matches!(f, Failure::Conflict))
            .await
        {
            Ok(()) => Ok(()),
            Err(Failure::Other(e)) => Err(e),
            Err(Failure::Conflict) => Err(StepError {
                retryable: true,
                reason: "the aliases kept changing concurrently".into(),
            }),
        }
    }
}

/// Why one read-modify-write of the aliases failed: a conflict is worth another one.
enum Failure {
    Conflict,
    Other(StepError),
}

//! The tour's rotation step: new credentials while a client keeps logging in with the
//! secret's `current` version.

use std::time::Duration;

use events::environment::EnvironmentReady;
use events::rotation::{RotationFailed, RotationRequested, SecretRotated};
use events::TypedEvent;

use super::connect::{login, Loop};
use super::steps::{field, secret_id, ty, Tour, TABLE, WAIT};
use crate::operator::publish::send_typed;

impl Tour {
    /// Rotates the credentials while a client keeps logging in with `current`.
    pub async fn rotate(&self, ready: &EnvironmentReady) -> anyhow::Result<()> {
        let client = Loop::start(self.secrets.clone(), secret_id(ready).to_owned(), TABLE);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let request = RotationRequested {
            secret: None,
            environment: Some(self.name.clone()),
            reason: Some("local demo".into()),
        };
        let id = send_typed(&self.publisher, &request).await?;
        self.at.say(
            "→",
            format!(
                "secret rotate --environment {}  (message {id}; a client keeps logging in)",
                self.name
            ),
        );
        let outcome = [SecretRotated::TYPE, RotationFailed::TYPE];
        let event = self
            .events
            .next(WAIT, |m| {
                outcome.contains(&ty(m)) && field(m, "secret") == secret_id(ready)
            })
            .await;
        let event = match event {
            Ok(event) if ty(&event) == SecretRotated::TYPE => event,
            Ok(failed) => {
                client.stop().await;
                anyhow::bail!(
                    "secret.rotation.failed at {}: {}",
                    field(&failed, "step"),
                    field(&failed, "reason")
                );
            }
            Err(e) => {
                client.stop().await;
                return Err(e);
            }
        };
        let rotated: SecretRotated = serde_json::from_slice(&event.data)?;
        let previous = rotated.previous_version.as_deref().unwrap_or("-");
        self.at.say(
            "←",
            format!(
                "secret.rotated: {} version {} (was {previous}), login role now {}",
                rotated.secret.as_str(),
                rotated.version,
                rotated.role.as_str()
            ),
        );
        // A moment more, so the client also logs in with the new version.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (logins, failed) = client.stop().await;
        let mark = if failed == 0 { "✓" } else { "✗" };
        self.at.say(
            mark,
            format!("the client logged in {logins} times during the rotation, {failed} failed"),
        );
        let mut conn = login(self.secrets.as_ref(), secret_id(ready)).await?;
        let (user, rows): (String, i64) =
            sqlx::query_as(&format!("SELECT session_user::text, count(*) FROM {TABLE}"))
                .fetch_one(&mut conn)
                .await?;
        self.at.say(
            "✓",
            format!("`current` now logs in as {user}; {TABLE} holds all {rows} rows"),
        );
        Ok(())
    }
}

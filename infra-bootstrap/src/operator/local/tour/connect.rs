//! The client the rotation must not disturb: it reads the credentials secret's `current`
//! version and logs in with it, again and again, counting successes and failures.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;
use shared::backends::secrets::SecretStore;
use sqlx::{Connection as _, PgConnection};

use crate::operator::env::connection_url;

/// A connection logged in with the `current` version of `secret`.
pub async fn login(secrets: &dyn SecretStore, secret: &str) -> anyhow::Result<PgConnection> {
    let json = secrets.access(secret, "current").await?;
    let url = connection_url(&json)?;
    Ok(PgConnection::connect(url.expose_secret()).await?)
}

/// A running loop of logins; [`Loop::stop`] returns (logins, failures).
pub struct Loop {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(u32, u32)>,
}

impl Loop {
    /// Starts logging in (each login inserts a row into `table`, then disconnects).
    pub fn start(secrets: Arc<dyn SecretStore>, secret: String, table: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut ok, mut failed) = (0, 0);
            while !flag.load(Ordering::Relaxed) {
                let visit = async {
                    let mut conn = login(secrets.as_ref(), &secret).await?;
                    sqlx::query(&format!("INSERT INTO {table} DEFAULT VALUES"))
                        .execute(&mut conn)
                        .await?;
                    conn.close().await?;
                    anyhow::Ok(())
                };
                match visit.await {
                    Ok(()) => ok += 1,
                    Err(_) => failed += 1,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (ok, failed)
        });
        Self { stop, task }
    }

    /// Stops the loop: (successful logins, failed ones).
    pub async fn stop(self) -> (u32, u32) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or((0, u32::MAX))
    }
}

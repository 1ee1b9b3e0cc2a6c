//! `env list` and `env credentials`: reading the control state and the credentials secret.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use env_provisioner::inventory;
use events::names::{EnvName, SecretId};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use shared::credential::Credential;
use sqlx::PgPool;

use crate::output::{self, Output};

/// One row of `env list`.
#[derive(Debug, Serialize)]
pub struct Listed {
    /// The environment.
    pub name: String,
    /// Its tier.
    pub tier: String,
    /// Who asked for it.
    pub owner: String,
    /// `provisioning`, `ready`, `failed`, `deleting` or `deleted`.
    pub status: String,
    /// When the TTL sweep removes it.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The environments in the control state, by name; deleted ones only with `all`.
pub async fn list(pool: &PgPool, all: bool, out: Output) -> anyhow::Result<()> {
    let rows: Vec<Listed> = inventory::list(pool)
        .await
        .context(NO_STATE)?
        .into_iter()
        .filter(|e| all || !e.is_deleted())
        .map(|e| Listed {
            tier: e.tier.as_str().to_owned(),
            name: e.name,
            owner: e.owner,
            status: e.status,
            expires_at: e.expires_at,
        })
        .collect();
    output::print(out, &rows, |rows| table(rows))
}

/// The hint when the control table cannot be read.
pub const NO_STATE: &str =
    "reading control.environments (is DATABASE_URL the control database, and has `migrate` run on it, by a deploy or `local up`?)";

fn table(rows: &[Listed]) -> String {
    let mut out = format!(
        "{:<30} {:<9} {:<10} {:<28} {}\n",
        "NAME", "TIER", "STATUS", "OWNER", "EXPIRES"
    );
    for r in rows {
        let expires = r.expires_at.map_or("-".to_owned(), |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        out.push_str(&format!(
            "{:<30} {:<9} {:<10} {:<28} {expires}\n",
            r.name, r.tier, r.status, r.owner
        ));
    }
    out
}

/// The credentials secret of a ready environment, from the control state.
pub async fn credentials_secret(pool: &PgPool, name: &EnvName) -> anyhow::Result<SecretId> {
    match inventory::get(pool, name).await.context(NO_STATE)? {
        Some(e) if e.is_ready() => Ok(name.secret_id(e.tier)),
        Some(e) => anyhow::bail!("environment {name} is {}, not ready", e.status),
        None => anyhow::bail!("there is no environment {name}"),
    }
}

/// `postgres://user:password@host:port/database?sslmode=…` from the secret's JSON (the one
/// [`Credential`] type the provisioner writes and the rotator replaces); every part is
/// percent-encoded where the URL syntax needs it.
pub fn connection_url(secret_json: &SecretString) -> anyhow::Result<SecretString> {
    // Credential::parse never quotes the input; its message says only what is wrong.
    let c = Credential::parse(secret_json).map_err(|e| anyhow::anyhow!("the secret: {e}"))?;
    let mut url = reqwest::Url::parse("postgres://placeholder")?;
    url.set_host(Some(&c.host))
        .context("the secret's host is not a valid host name")?;
    let set = |ok: Result<(), ()>| ok.map_err(|()| anyhow::anyhow!("cannot build the URL"));
    set(url.set_port(Some(c.port)))?;
    set(url.set_username(c.user.as_str()))?;
    set(url.set_password(Some(c.password.expose_secret())))?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("cannot build the URL"))?
        .push(&c.database);
    url.query_pairs_mut()
        .append_pair("sslmode", c.sslmode.as_str());
    Ok(SecretString::from(String::from(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_every_credential_field_encoded() {
        let json = r#"{"host":"10.0.0.7","port":5433,"database":"env_shop","user":"env_shop_a",
                       "password":"a-b.c_d~e/f@g","sslmode":"require"}"#;
        let url = connection_url(&SecretString::from(json)).expect("url");
        assert_eq!(
            url.expose_secret(),
            "postgres://env_shop_a:a-b.c_d~e%2Ff%40g@10.0.0.7:5433/env_shop?sslmode=require"
        );
    }

    #[test]
    fn a_secret_that_is_not_credentials_is_refused_without_echoing_it() {
        let err = connection_url(&SecretString::from(r#"{"password":"hunter2-hunter2"}"#))
            .expect_err("missing fields");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

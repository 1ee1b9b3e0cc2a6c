//! The database to dump and how to reach it.

use events::names::DbIdent;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;

/// Where the database is. The password stays wrapped: it reaches `pg_dump` only through
/// its environment (`PGPASSWORD`), never a command line, log or error.
#[derive(Debug, Clone)]
pub struct Target {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Role to connect as.
    pub user: String,
    /// Its password, if the server asks for one.
    pub password: Option<SecretString>,
    /// Database name.
    pub database: String,
    /// A role to act as once connected (`SET ROLE` through `PGOPTIONS`), so what a restore
    /// creates belongs to it; a validated identifier, so it cannot smuggle other options.
    pub session_role: Option<DbIdent>,
}

impl Target {
    /// The database `url` names (`postgres` when it names none), as the role of `url`.
    pub fn from_url(url: &SecretString) -> Result<Self, String> {
        let database = url::Url::parse(url.expose_secret())
            .ok()
            .map(|u| u.path().trim_start_matches('/').to_owned())
            .filter(|db| !db.is_empty())
            .unwrap_or_else(|| "postgres".to_owned());
        Self::on_server(url, &database)
    }

    /// The database `database` on the server of `url` (`postgres://user:password@host:port/…`),
    /// as the role of `url`. The error names what is missing, never the URL's password.
    pub fn on_server(url: &SecretString, database: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url.expose_secret())
            .map_err(|e| format!("not a postgres:// URL ({e})"))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "scheme {:?}: expected postgres://",
                parsed.scheme()
            ));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|decoded| decoded.into_owned())
                .map_err(|_| "the URL's user or password is not UTF-8".to_owned())
        };
        Ok(Self {
            host: parsed
                .host_str()
                .ok_or("the URL names no host")?
                .trim_matches(['[', ']'])
                .to_owned(),
            port: parsed.port().unwrap_or(5432),
            user: decode(parsed.username())?,
            password: parsed
                .password()
                .map(decode)
                .transpose()?
                .map(SecretString::from),
            database: database.to_owned(),
            session_role: None,
        })
    }

    /// Options for the snapshot connection.
    pub(crate) fn connect_options(&self) -> PgConnectOptions {
        let options = PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .database(&self.database);
        match &self.password {
            Some(password) => options.password(password.expose_secret()),
            None => options,
        }
    }

    /// The libpq environment for `pg_dump` (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
    /// `PGDATABASE`).
    pub(crate) fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.database.clone()),
        ];
        if let Some(password) = &self.password {
            env.push(("PGPASSWORD", password.expose_secret().to_owned()));
        }
        if let Some(role) = &self.session_role {
            env.push(("PGOPTIONS", format!("-c role={}", role.as_str())));
        }
        env
    }
}

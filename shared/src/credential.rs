//! The credentials secret's payload: JSON `host, port, database, user, password, sslmode`,
//! written when an environment is provisioned, read and rewritten by every rotation, and
//! read by the operator CLI. One type, so the three cannot drift apart.

use std::{convert::Infallible, fmt, str::FromStr};

use events::names::DbIdent;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::ConnectOptions;

/// libpq's `sslmode`, spelled as libpq spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// `disable`.
    Disable,
    /// `allow`.
    Allow,
    /// `prefer` (libpq's default).
    Prefer,
    /// `require`.
    Require,
    /// `verify-ca`.
    VerifyCa,
    /// `verify-full`.
    VerifyFull,
}

impl SslMode {
    /// The libpq spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SslMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mode: PgSslMode = s
            .parse()
            .map_err(|_| format!("sslmode {s:?} is not a libpq sslmode"))?;
        Ok(mode.into())
    }
}

impl From<PgSslMode> for SslMode {
    fn from(mode: PgSslMode) -> Self {
        match mode {
            PgSslMode::Disable => Self::Disable,
            PgSslMode::Allow => Self::Allow,
            PgSslMode::Prefer => Self::Prefer,
            PgSslMode::Require => Self::Require,
            PgSslMode::VerifyCa => Self::VerifyCa,
            PgSslMode::VerifyFull => Self::VerifyFull,
        }
    }
}

impl From<SslMode> for PgSslMode {
    fn from(mode: SslMode) -> Self {
        match mode {
            SslMode::Disable => Self::Disable,
            SslMode::Allow => Self::Allow,
            SslMode::Prefer => Self::Prefer,
            SslMode::Require => Self::Require,
            SslMode::VerifyCa => Self::VerifyCa,
            SslMode::VerifyFull => Self::VerifyFull,
        }
    }
}

/// One database credential. `Debug` never shows the password ([`SecretString`]).
#[derive(Debug, Clone, Deserialize)]
pub struct Credential {
    /// Where clients connect.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The database.
    pub database: String,
    /// The login role.
    pub user: DbIdent,
    /// The password.
    pub password: SecretString,
    /// What clients require of TLS.
    pub sslmode: SslMode,
}

impl Credential {
    /// Reads a payload. The error never quotes the payload (serde's messages can quote
    /// values): only the kind of problem and where.
    pub fn parse(payload: &SecretString) -> Result<Self, String> {
        serde_json::from_str(payload.expose_secret()).map_err(|e| {
            format!(
                "the payload is not the credentials JSON ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })
    }

    /// The same credential for another role and password.
    pub fn with(&self, user: DbIdent, password: SecretString) -> Self {
        Self {
            user,
            password,
            ..self.clone()
        }
    }

    /// The payload. Built as a `serde_json` map, whose keys serialize sorted: the bytes are
    /// those every stored version already has.
    pub fn to_payload(&self) -> SecretString {
        SecretString::from(
            serde_json::json!({
                "host": self.host, "port": self.port, "database": self.database,
                "user": self.user, "password": self.password.expose_secret(),
                "sslmode": self.sslmode,
            })
            .to_string(),
        )
    }

    /// Connection options as a client would build them. With `require_tls`, a credential
    /// that allows plaintext is upgraded to `require`, so the login fails instead of
    /// silently falling back. Cannot fail now that `sslmode` is typed; still a `Result` so
    /// the callers written when it was a string read the same.
    pub fn options(&self, require_tls: bool) -> Result<PgConnectOptions, Infallible> {
        let mode = match self.sslmode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer if require_tls => SslMode::Require,
            other => other,
        };
        Ok(PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .database(&self.database)
            .username(self.user.as_str())
            .password(self.password.expose_secret())
            .ssl_mode(mode.into())
            .options([("standard_conforming_strings", "on")])
            .disable_statement_logging())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"database":"d","host":"h","password":"hunter2-secret","port":5432,"sslmode":"verify-full","user":"env_x_a"}"#;

    #[test]
    fn the_payload_round_trips_byte_for_byte_and_never_shows_the_password() {
        let cred = Credential::parse(&SecretString::from(GOOD)).expect("valid");
        assert_eq!(cred.sslmode, SslMode::VerifyFull);
        assert_eq!(cred.to_payload().expose_secret(), GOOD);
        assert!(!format!("{cred:?}").contains("hunter2"));
        let bad = SecretString::from(r#"{"host":"h","port":"hunter2-secret"}"#);
        let err = Credential::parse(&bad).expect_err("bad port");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn sslmode_is_one_of_libpqs_and_required_tls_upgrades_only_the_plaintext_ones() {
        let unknown = GOOD.replace("verify-full", "sometimes");
        assert!(Credential::parse(&SecretString::from(unknown)).is_err());
        let mut cred = Credential::parse(&SecretString::from(GOOD)).expect("valid");
        let mode = |c: &Credential, tls| c.options(tls).expect("options").get_ssl_mode();
        assert!(matches!(mode(&cred, true), PgSslMode::VerifyFull));
        cred.sslmode = SslMode::Prefer;
        assert!(matches!(mode(&cred, true), PgSslMode::Require));
        assert!(matches!(mode(&cred, false), PgSslMode::Prefer));
        for text in [
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ] {
            assert_eq!(text.parse::<SslMode>().expect(text).as_str(), text);
        }
    }
}

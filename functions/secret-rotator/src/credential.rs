//! The credentials secret's payload, exactly as env-provisioner writes it (JSON `host, port,
//! database, user, password, sslmode`), and logging in with it the way a client would.

use events::names::DbIdent;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::ConnectOptions;

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
    /// libpq `sslmode` clients use.
    pub sslmode: String,
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

    /// The payload, in env-provisioner's format.
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
    /// silently falling back.
    pub fn options(&self, require_tls: bool) -> Result<PgConnectOptions, String> {
        let mode: PgSslMode = self
            .sslmode
            .parse()
            .map_err(|_| format!("sslmode {:?} is not a libpq sslmode", self.sslmode))?;
        let mode = match mode {
            PgSslMode::Disable | PgSslMode::Allow | PgSslMode::Prefer if require_tls => {
                PgSslMode::Require
            }
            other => other,
        };
        Ok(PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .database(&self.database)
            .username(self.user.as_str())
            .password(self.password.expose_secret())
            .ssl_mode(mode)
            .options([("standard_conforming_strings", "on")])
            .disable_statement_logging())
    }
}

/// The other login role of an alternating pair (`…_a` ↔ `…_b`).
pub fn other_role(user: &DbIdent) -> Option<DbIdent> {
    let name = user.as_str();
    let stem = name
        .strip_suffix("_a")
        .map(|s| (s, "_b"))
        .or_else(|| name.strip_suffix("_b").map(|s| (s, "_a")));
    stem.and_then(|(stem, suffix)| format!("{stem}{suffix}").parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_and_debug_never_show_the_password() {
        let bad = SecretString::from(r#"{"host":"h","port":"hunter2-secret"}"#);
        let err = Credential::parse(&bad).expect_err("bad port");
        assert!(!err.contains("hunter2"), "{err}");
        let good = SecretString::from(
            r#"{"host":"h","port":5432,"database":"d","user":"env_x_a","password":"hunter2-secret","sslmode":"prefer"}"#,
        );
        let cred = Credential::parse(&good).expect("valid");
        assert!(!format!("{cred:?}").contains("hunter2"));
        let json = |s: &SecretString| -> serde_json::Value {
            serde_json::from_str(s.expose_secret()).expect("json")
        };
        assert_eq!(json(&cred.to_payload()), json(&good));
    }

    #[test]
    fn roles_alternate_between_a_and_b() {
        let a: DbIdent = "env_shop_a".parse().expect("ident");
        let b = other_role(&a).expect("b");
        assert_eq!(b.as_str(), "env_shop_b");
        assert_eq!(other_role(&b), Some(a));
        assert_eq!(other_role(&"app".parse().expect("ident")), None);
    }

    #[test]
    fn required_tls_upgrades_prefer_and_keeps_verify_full() {
        let mut cred = Credential::parse(&SecretString::from(
            r#"{"host":"h","port":1,"database":"d","user":"u_a","password":"p","sslmode":"prefer"}"#,
        ))
        .expect("valid");
        let mode = |c: &Credential, tls| c.options(tls).expect("options").get_ssl_mode();
        assert!(matches!(mode(&cred, true), PgSslMode::Require));
        assert!(matches!(mode(&cred, false), PgSslMode::Prefer));
        cred.sslmode = "verify-full".into();
        assert!(matches!(mode(&cred, true), PgSslMode::VerifyFull));
        cred.sslmode = "sometimes".into();
        assert!(cred.options(false).is_err());
    }
}

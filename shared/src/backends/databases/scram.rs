//! Passwords reach PostgreSQL as SCRAM-SHA-256 verifiers, never in clear text.
//!
//! `ALTER ROLE … PASSWORD` takes no bind parameter, so the value has to be a literal in the
//! statement. Rather than quoting the password itself (client side, or server side with
//! `format('%L')`), we do what `psql`'s `\password` does (libpq's `PQencryptPasswordConn`):
//! compute the verifier `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>` here and send
//! that. PostgreSQL stores a value in this form as is. So the clear password never appears
//! in a statement, in `log_statement` / `pg_stat_statements` output or on the wire, and the
//! literal is built from base64 and `$:` only — [`quote_literal`] still checks and quotes it.
//!
//! The verifier comes from `postgres-protocol`, which matches libpq: SASLprep first (so
//! passwords need not be ASCII), a random 16-byte salt, [`ITERATIONS`] rounds.
//!
//! Two limits stay, neither about the verifier: no NUL, and nothing SASLprep would change
//! (see [`PasswordError`]).

use secrecy::{ExposeSecret, SecretString};

/// The iteration count in every verifier: `postgres-protocol`'s, which is PostgreSQL's
/// default `scram_iterations`.
pub const ITERATIONS: u32 = 4096;

/// Why a password cannot be turned into a verifier (never shows the password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Empty passwords are refused by PostgreSQL's SCRAM login.
    #[error("the password is empty")]
    Empty,
    /// libpq and the server take passwords as C strings: a NUL would cut it short.
    #[error("the password contains a NUL character")]
    Nul,
    /// The verifier is made from the SASLprep form (as libpq and PostgreSQL do), but not
    /// every client prepares the password it logs in with: sqlx, which our own login check
    /// uses, sends it as is. A password equal to its SASLprep form logs in either way.
    #[error(
        "the password is not in SASLprep normal form (non-ASCII spaces, compatibility \
         characters or unnormalised Unicode); clients that do not normalise could not log in"
    )]
    NotSaslprepNormal,
}

/// The SCRAM-SHA-256 verifier for `password`, with a fresh random 16-byte salt.
pub fn verifier(password: &SecretString) -> Result<String, PasswordError> {
    let password = password.expose_secret();
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.contains('\0') {
        return Err(PasswordError::Nul);
    }
    // A password SASLprep refuses (control characters, …) is used as is by libpq, the server
    // and postgres-protocol alike, and by sqlx: no client disagrees, so it is allowed.
    if let Ok(prepared) = stringprep::saslprep(password) {
        if prepared != password {
            return Err(PasswordError::NotSaslprepNormal);
        }
    }
    Ok(postgres_protocol::password::scram_sha_256(
        password.as_bytes(),
    ))
}

/// `value` as a standard SQL string literal (`'…'`, quotes doubled). Refuses NUL, which
/// PostgreSQL cannot hold in text; backslashes are literal with `standard_conforming_strings`
/// (on by default since 9.1, and checked by [`super::PostgresAdmin`] when it connects).
pub fn quote_literal(value: &str) -> Option<String> {
    if value.contains('\0') {
        return None;
    }
    Some(format!("'{}'", value.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::{engine::general_purpose::STANDARD, Engine as _};

    #[test]
    fn the_verifier_has_postgresql_s_layout() {
        // The salt is random now (postgres-protocol takes none): its length is checked.
        let v = verifier(&SecretString::from("pencil")).unwrap();
        let parts: Vec<&str> = v.split(['$', ':']).collect();
        let iterations = ITERATIONS.to_string();
        assert_eq!(parts[..2], ["SCRAM-SHA-256", iterations.as_str()], "{v}");
        assert_eq!(STANDARD.decode(parts[2]).unwrap().len(), 16, "{v}");
        assert_eq!(parts.len(), 5, "{v}");
        for key in &parts[3..] {
            assert_eq!(STANDARD.decode(key).unwrap().len(), 32, "{v}");
        }
    }

    #[test]
    fn the_verifier_never_contains_the_password_and_needs_no_escaping() {
        let password = SecretString::from("correct-horse-battery-staple-0123456789");
        let v = verifier(&password).unwrap();
        assert!(!v.contains("horse"));
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=$:-".contains(c)),
            "{v}"
        );
        assert_ne!(v, verifier(&password).unwrap(), "a fresh salt every time");
    }

    #[test]
    fn unusable_passwords_are_refused_without_echoing_them() {
        assert_eq!(verifier(&SecretString::from("")), Err(PasswordError::Empty));
        assert_eq!(
            verifier(&SecretString::from("zq\0xw")),
            Err(PasswordError::Nul)
        );
        // U+00A0 (no-break space) becomes a space under SASLprep, U+2168 (Ⅸ) becomes "IX".
        for changed in ["zq\u{a0}xw", "zq\u{2168}xw"] {
            let err = verifier(&SecretString::from(changed)).unwrap_err();
            assert_eq!(err, PasswordError::NotSaslprepNormal);
            assert!(!err.to_string().contains("zq"));
        }
    }

    #[test]
    fn printable_ascii_is_no_longer_required() {
        for password in ["zq\u{e9}xw", "日本語のパスワード", "tab\there"] {
            assert!(
                verifier(&SecretString::from(password)).is_ok(),
                "{password:?}"
            );
        }
    }

    #[test]
    fn literals_double_quotes_and_refuse_nul() {
        assert_eq!(quote_literal("it's").as_deref(), Some("'it''s'"));
        assert_eq!(quote_literal("a\0b"), None);
    }
}

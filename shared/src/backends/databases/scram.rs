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
//! Passwords must be printable ASCII: PostgreSQL SASLprep-normalises others at login, which
//! this module does not implement, and groundskeeper's own passwords never need it.

use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use base64::{engine::general_purpose::STANDARD, Engine as _};

/// PostgreSQL's default `scram_iterations`.
pub const ITERATIONS: u32 = 4096;

/// Why a password cannot be turned into a verifier (never shows the password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Empty passwords are refused by PostgreSQL's SCRAM login.
    #[error("the password is empty")]
    Empty,
    /// Outside printable ASCII (would need SASLprep).
    #[error("the password has a character outside printable ASCII at position {0}")]
    NotPrintableAscii(usize),
}

/// The SCRAM-SHA-256 verifier for `password`, with a fresh random 16-byte salt.
pub fn verifier(password: &SecretString) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    verifier_with_salt(password, &salt, ITERATIONS)
}

/// The verifier for a given salt and iteration count (RFC 5802 / RFC 7677).
pub fn verifier_with_salt(
    password: &SecretString,
    salt: &[u8],
    iterations: u32,
) -> Result<String, PasswordError> {
    let password = password.expose_secret();
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if let Some(position) = password.chars().position(|c| !(' '..='~').contains(&c)) {
        return Err(PasswordError::NotPrintableAscii(position + 1));
    }
    let salted = hi(password.as_bytes(), salt, iterations);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, b"Server Key");
    Ok(format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    ))
}

/// `Hi(password, salt, i)`: PBKDF2-HMAC-SHA-256 with one output block.
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut u = {
        let mut mac = new_mac(password);
        mac.update(salt);
        mac.update(&1u32.to_be_bytes());
        mac.finalize().into_bytes()
    };
    let mut out: [u8; 32] = u.into();
    for _ in 1..iterations {
        u = hmac(password, &u).into();
        out.iter_mut().zip(u.iter()).for_each(|(o, b)| *o ^= b);
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = new_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn new_mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC is defined for keys of any length; `new_from_slice` cannot fail for it.
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
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

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hi_is_pbkdf2_hmac_sha256() {
        // The published PBKDF2-HMAC-SHA256 vectors for P="password", S="salt", dkLen=32.
        assert_eq!(
            hex(&hi(b"password", b"salt", 1)),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        assert_eq!(
            hex(&hi(b"password", b"salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
    }

    #[test]
    fn the_verifier_has_postgresql_s_layout() {
        let v =
            verifier_with_salt(&SecretString::from("pencil"), b"0123456789abcdef", 4096).unwrap();
        let parts: Vec<&str> = v.split(['$', ':']).collect();
        let salt = STANDARD.encode(b"0123456789abcdef");
        assert_eq!(parts[..3], ["SCRAM-SHA-256", "4096", salt.as_str()], "{v}");
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
        let err = verifier(&SecretString::from("zq\u{e9}xw")).unwrap_err();
        assert_eq!(err, PasswordError::NotPrintableAscii(3));
        assert!(!err.to_string().contains("zq"));
    }

    #[test]
    fn literals_double_quotes_and_refuse_nul() {
        assert_eq!(quote_literal("it's").as_deref(), Some("'it''s'"));
        assert_eq!(quote_literal("a\0b"), None);
    }
}

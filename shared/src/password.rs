//! Generated passwords: CSPRNG, URI-safe, never printable by accident.

use rand::Rng;
use secrecy::SecretString;

use crate::env::{ConfigError, Env};

/// The shortest password the platform generates.
pub const MIN_LENGTH: usize = 32;
/// The longest password the platform generates.
pub const MAX_LENGTH: usize = 256;

/// RFC 3986 "unreserved" characters: a password from these needs no escaping in a
/// connection URL, a JSON string or a shell variable, and SASLprep leaves it as it is, so
/// every client logs in with it whether or not it prepares passwords.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// A new password of `length` characters from the thread-local CSPRNG (ChaCha, seeded from
/// the operating system), about 6 bits of entropy per character.
pub fn generate(length: usize) -> SecretString {
    let mut rng = rand::rng();
    let password: String = (0..length)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    SecretString::from(password)
}

/// `PASSWORD_LENGTH` (default 40), refused outside [`MIN_LENGTH`]..=[`MAX_LENGTH`].
pub fn length_from_env(env: &Env) -> Result<usize, ConfigError> {
    let length = env.parse_or("PASSWORD_LENGTH", 40usize)?;
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(ConfigError::new(
            "PASSWORD_LENGTH",
            format!("must be between {MIN_LENGTH} and {MAX_LENGTH}"),
        ));
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn passwords_are_long_unreserved_fresh_and_hidden_from_debug() {
        let p = generate(40);
        assert_eq!(p.expose_secret().len(), 40);
        assert!(p.expose_secret().bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(p.expose_secret(), generate(40).expose_secret());
        assert!(!format!("{p:?}").contains(p.expose_secret()));
    }

    #[test]
    fn a_short_password_length_is_refused_by_name() {
        let env = Env::from_pairs([("PASSWORD_LENGTH", "16")]);
        assert_eq!(length_from_env(&env).unwrap_err().name, "PASSWORD_LENGTH");
        assert_eq!(length_from_env(&Env::default()).unwrap(), 40);
    }
}

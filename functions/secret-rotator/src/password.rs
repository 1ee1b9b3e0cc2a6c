//! Generated passwords: CSPRNG, URI-safe, never printable by accident.

use rand::Rng;
use secrecy::SecretString;

/// RFC 3986 "unreserved" characters: a password from these needs no escaping in a
/// connection URL, a JSON string or a shell variable, and is printable ASCII, which
/// PostgreSQL's SCRAM needs no normalisation for.
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

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn passwords_are_long_unreserved_and_fresh() {
        let p = generate(40);
        assert_eq!(p.expose_secret().len(), 40);
        assert!(p.expose_secret().bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(p.expose_secret(), generate(40).expose_secret());
        assert!(!format!("{p:?}").contains(p.expose_secret()));
    }
}

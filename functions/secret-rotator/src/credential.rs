//! The credentials secret's payload is `shared::credential::Credential`; what only rotation
//! needs of it is the pairing of alternating login roles.

use events::names::DbIdent;

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
    fn roles_alternate_between_a_and_b() {
        let a: DbIdent = "env_shop_a".parse().expect("ident");
        let b = other_role(&a).expect("b");
        assert_eq!(b.as_str(), "env_shop_b");
        assert_eq!(other_role(&b), Some(a));
        assert_eq!(other_role(&"app".parse().expect("ident")), None);
    }
}

//! Validated names: what is refused, with which message, and what is derived from a name.

use events::names::{DbIdent, EnvName, LoginSlot, NameError, SecretId, ENV_NAME_MAX_LEN};
use events::{HumanDuration, Tier};

fn refused(name: &str) -> String {
    let err: NameError = name.parse::<EnvName>().expect_err(name);
    err.to_string()
}

#[test]
fn bad_environment_names_are_refused_with_distinct_messages() {
    let seventy = "a".repeat(70);
    let cases = [
        ("Pr_1", "environment name \"Pr_1\" has uppercase 'P' at position 1: use lowercase letters".to_owned()),
        ("pr_1", "environment name \"pr_1\" has '_' at position 3: only lowercase letters, digits and hyphens are allowed".to_owned()),
        ("a;drop database x", "environment name \"a;drop database x\" has ';' at position 2: only lowercase letters, digits and hyphens are allowed".to_owned()),
        (seventy.as_str(), format!("environment name \"{}\"… is 70 characters long; the maximum is 30", "a".repeat(40))),
        ("", "environment name is empty: use 1-30 lowercase letters, digits and hyphens, starting with a letter".to_owned()),
        ("1abc", "environment name \"1abc\" starts with '1': it must start with a lowercase letter".to_owned()),
        ("-abc", "environment name \"-abc\" starts with '-': it must start with a lowercase letter".to_owned()),
        ("abc-", "environment name \"abc-\" ends with a hyphen".to_owned()),
        ("caf\u{e9}", "environment name \"café\" has 'é' at position 4: only lowercase letters, digits and hyphens are allowed".to_owned()),
        ("a\nb", "environment name \"a\\nb\" has '\\n' at position 2: only lowercase letters, digits and hyphens are allowed".to_owned()),
    ];
    for (name, expected) in &cases {
        assert_eq!(&refused(name), expected, "name {name:?}");
    }
}

#[test]
fn good_names_parse_and_serde_goes_through_validation() {
    for name in ["a", "pr-1234", "x1", "a-b-c", &"a".repeat(ENV_NAME_MAX_LEN)] {
        let parsed: EnvName = name.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.as_str(), name);
        let json = serde_json::to_string(&parsed).expect("serialises");
        assert_eq!(
            serde_json::from_str::<EnvName>(&json).expect("round trip"),
            parsed
        );
    }
    let err = serde_json::from_str::<EnvName>("\"Bad\"").expect_err("validated");
    assert!(
        err.to_string()
            .starts_with("environment name \"Bad\" has uppercase 'B'"),
        "{err}"
    );
}

#[test]
fn derived_identifiers_fit_their_limits_even_for_the_longest_name() {
    let name: EnvName = "a-"
        .repeat(15)
        .trim_end_matches('-')
        .to_owned()
        .parse()
        .expect("29 chars");
    let longest: EnvName = "z".repeat(ENV_NAME_MAX_LEN).parse().expect("max length");
    for env in [&name, &longest] {
        let idents = [
            env.database(),
            env.owner_role(),
            env.login_role(LoginSlot::A),
            env.login_role(LoginSlot::B),
        ];
        for ident in idents {
            assert!(ident.as_str().len() <= 63, "{ident}");
            assert_eq!(
                ident.as_str().parse::<DbIdent>().expect("valid identifier"),
                ident
            );
        }
        assert!(
            env.service_name().len() <= 49,
            "Cloud Run service names are at most 49"
        );
        assert!(env.secret_id(Tier::Ephemeral).as_str().len() <= 255);
    }
    let env: EnvName = "pr-1234".parse().expect("valid");
    assert_eq!(env.database().as_str(), "env_pr_1234");
    assert_eq!(env.owner_role().as_str(), "env_pr_1234_owner");
    assert_eq!(env.login_role(LoginSlot::A).as_str(), "env_pr_1234_a");
    assert_eq!(
        env.login_role(LoginSlot::A.other()).as_str(),
        "env_pr_1234_b"
    );
    assert_eq!(env.owner_role().quoted(), "\"env_pr_1234_owner\"");
    assert_eq!(
        env.secret_id(Tier::Staging).as_str(),
        "staging-pr-1234-db-credentials"
    );
    assert_eq!(env.service_name(), "env-pr-1234");
    assert_eq!(env.object_prefix(), "envs/pr-1234/");
}

#[test]
fn db_identifiers_and_secret_ids_have_their_own_rules() {
    assert_eq!(
        "Env".parse::<DbIdent>().expect_err("upper").to_string(),
        "database identifier \"Env\" has uppercase 'E' at position 1: use lowercase letters"
    );
    assert_eq!(
        "x\"; drop".parse::<DbIdent>().expect_err("quote").to_string(),
        "database identifier \"x\\\"; drop\" has '\"' at position 2: only lowercase letters, digits and underscores are allowed"
    );
    assert!("a".repeat(64).parse::<DbIdent>().is_err());
    assert!("_private".parse::<DbIdent>().is_ok());
    assert!("Stripe_API-key".parse::<SecretId>().is_ok());
    assert_eq!(
        "projects/p/secrets/s".parse::<SecretId>().expect_err("slash").to_string(),
        "secret id \"projects/p/secrets/s\" has '/' at position 9: only letters, digits, hyphens and underscores are allowed"
    );
}

#[test]
fn human_durations_parse_and_print_canonically() {
    let cases = [
        ("48h", 172_800, "48h"),
        ("30m", 1_800, "30m"),
        ("1h30m", 5_400, "1h30m"),
        ("2d", 172_800, "48h"),
        ("90s", 90, "1m30s"),
        ("0s", 0, "0s"),
    ];
    for (text, secs, canonical) in cases {
        let d: HumanDuration = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            (d.as_secs(), d.to_string().as_str()),
            (secs, canonical),
            "{text}"
        );
    }
    for (text, message) in [
        ("", "invalid duration \"\": it is empty (e.g. \"48h\", \"30m\", \"1h30m\")"),
        ("48", "invalid duration \"48\": \"48\" has no unit (e.g. \"48h\", \"30m\", \"1h30m\")"),
        ("h", "invalid duration \"h\": no number before 'h' (e.g. \"48h\", \"30m\", \"1h30m\")"),
        ("99999999999999999999d", "invalid duration \"99999999999999999999d\": no number before 'd' (e.g. \"48h\", \"30m\", \"1h30m\")"),
        ("40000d", "invalid duration \"40000d\": longer than 100 years (e.g. \"48h\", \"30m\", \"1h30m\")"),
    ] {
        assert_eq!(text.parse::<HumanDuration>().expect_err(text), message);
    }
}

#[test]
fn no_environment_name_maps_onto_a_platform_service() {
    // `env request provisioner` once named its preview `env-provisioner`: the platform itself.
    assert_eq!(
        refused("provisioner"),
        "environment name \"provisioner\" is reserved: its preview service would be named env-provisioner, a groundskeeper service"
    );
    for service in events::platform::PLATFORM_SERVICES {
        if let Some(name) = service.strip_prefix(events::names::PREVIEW_SERVICE_PREFIX) {
            assert!(
                name.parse::<EnvName>().is_err(),
                "{name} maps onto {service}"
            );
        }
        for name in ["provisioner", "rotator", "runner", "guard"] {
            if let Ok(env) = name.parse::<EnvName>() {
                assert_ne!(&env.service_name(), service);
            }
        }
    }
}

#[test]
fn every_label_the_platform_reads_is_reserved() {
    use events::labels::{validate_labels, Labels};
    for key in [
        "rotation",
        "rotation-period-days",
        "groundskeeper-kind",
        "managed-by",
        "environment",
        "tier",
        "owner",
        "expires-at",
    ] {
        let labels = Labels::from([(key.to_owned(), "x".to_owned())]);
        assert_eq!(
            validate_labels(&labels).unwrap_err(),
            format!("labels.{key}: this label is set by groundskeeper")
        );
    }
}

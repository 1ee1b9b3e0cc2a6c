//! `--set SERVICE:VAR=VALUE`: a person's setting for one service of the local stack, on top
//! of the registry's local settings (`events::platform`). The plumbing the stack owns cannot
//! be overridden: it is what keeps the stack on this machine.

use std::collections::BTreeMap;

use events::platform;

/// The variables the stack sets itself: where the bus, the databases and the object store
/// are, which topics to use, where to listen. `GOOGLE_*` is refused as a whole, so no setting
/// can point a service at Google.
pub const PLUMBING: &[&str] = &[
    "PORT",
    "LISTEN_ADDRESS",
    "DATABASE_URL",
    "MANAGED_DATABASE_URL",
    "PUBSUB_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "OBJECT_STORE_URL",
    "SECRET_STORE",
    "EVENTS_TOPIC",
    "DEAD_LETTER_TOPIC",
    "LOG_FORMAT",
    "K_SERVICE",
];

/// One `--set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// A built service of the registry.
    pub service: String,
    /// The variable.
    pub var: String,
    /// Its value (never printed: it may be a secret).
    pub value: String,
}

/// Parses `SERVICE:VAR=VALUE`, refusing an unknown (or not yet built) service and the
/// plumbing. The error names what is wrong, never the value.
pub fn parse(s: &str) -> Result<Setting, String> {
    let (target, value) = s
        .split_once('=')
        .ok_or_else(|| "expected SERVICE:VAR=VALUE".to_owned())?;
    let (service, var) = target
        .split_once(':')
        .ok_or_else(|| format!("{target:?} is not SERVICE:VAR (e.g. secret-rotator:RUST_LOG)"))?;
    if !platform::built().any(|spec| spec.name == service) {
        let known: Vec<&str> = platform::built().map(|spec| spec.name).collect();
        return Err(format!(
            "unknown service {service:?}: the local stack runs {}",
            known.join(", ")
        ));
    }
    let valid = !var.is_empty()
        && var
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(format!("{var:?} is not a variable name (A-Z, 0-9 and _)"));
    }
    if PLUMBING.contains(&var) || var.starts_with("GOOGLE_") {
        return Err(format!(
            "{var} is the stack's own plumbing and cannot be overridden (the stack sets {}, \
             and no GOOGLE_* variable)",
            PLUMBING.join(", ")
        ));
    }
    Ok(Setting {
        service: service.to_owned(),
        var: var.to_owned(),
        value: value.to_owned(),
    })
}

/// Every `--set`, or the first refusal (naming the setting's service and variable, never
/// its value).
pub fn parse_all(sets: &[String]) -> anyhow::Result<Vec<Setting>> {
    sets.iter()
        .map(|s| parse(s).map_err(|why| anyhow::anyhow!("--set: {why}")))
        .collect()
}

/// `service`'s settings: the registry's local ones, then the person's `--set`s (the last
/// one of a variable wins).
pub fn for_service(service: &str, sets: &[Setting]) -> BTreeMap<String, String> {
    let registry = platform::service(service).map_or(&[][..], |spec| spec.local.env);
    let mut env: BTreeMap<String, String> = registry
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    for set in sets.iter().filter(|s| s.service == service) {
        env.insert(set.var.clone(), set.value.clone());
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_names_a_built_service_and_a_variable_that_is_not_plumbing() {
        let ok = parse("secret-rotator:RUST_LOG=debug=x").expect("valid");
        assert_eq!(
            (ok.var.as_str(), ok.value.as_str()),
            ("RUST_LOG", "debug=x")
        );
        let unknown = parse("nope:RUST_LOG=debug").expect_err("unknown service");
        assert!(unknown.contains("unknown service \"nope\""), "{unknown}");
        // Every built service of the registry takes settings, the newest included.
        assert!(parse("budget-guard:LADDER_CAP=0.9").is_ok());
        for plumbing in ["DATABASE_URL", "PORT", "GOOGLE_APPLICATION_CREDENTIALS"] {
            let err = parse(&format!("env-provisioner:{plumbing}=x")).expect_err(plumbing);
            assert!(err.contains("plumbing"), "{err}");
        }
        let err = parse("env-provisioner:DATABASE_URL=postgres://u:hunter2@h/db").expect_err("x");
        assert!(!err.contains("hunter2"), "the value is not echoed: {err}");
        assert!(parse("env-provisioner:lower=1").is_err());
        assert!(parse("env-provisioner=1").is_err());
    }

    #[test]
    fn the_persons_setting_overrides_the_registrys() {
        let sets = [
            parse("env-provisioner:QUOTA=1").expect("valid"),
            parse("env-provisioner:QUOTA=2").expect("valid"),
            parse("secret-rotator:OTHER=1").expect("valid"),
        ];
        let env = for_service("env-provisioner", &sets);
        assert_eq!(env.get("QUOTA").map(String::as_str), Some("2"));
        assert!(!env.contains_key("OTHER"));
    }
}

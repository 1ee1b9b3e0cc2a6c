//! `cloudbuild.yaml` is consistent: every substitution it uses is declared, every service in
//! the workspace is built, pushed and deployed (and nothing else is), step ids are unique and
//! every `waitFor` names a step. No Docker engine here, so the images themselves are not built.

use std::{collections::BTreeSet, path::Path};

use serde_yaml_ng::Value;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
}

fn cloudbuild() -> Value {
    let text =
        std::fs::read_to_string(workspace().join("cloudbuild.yaml")).expect("cloudbuild.yaml");
    serde_yaml_ng::from_str(&text).expect("cloudbuild.yaml is YAML")
}

fn steps(build: &Value) -> &Vec<Value> {
    build["steps"].as_sequence().expect("steps")
}

fn id(step: &Value) -> &str {
    step["id"].as_str().expect("every step has an id")
}

/// Every string in `value`, depth first.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Mapping(map) => map.iter().for_each(|(k, v)| {
            strings(k, out);
            strings(v, out);
        }),
        _ => {}
    }
}

/// User substitutions (`$_NAME` or `${_NAME}`) used in `text`.
fn substitutions_in(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("$") {
        rest = &rest[at + 1..];
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if name.starts_with('_') {
            found.insert(name);
        }
    }
    found
}

fn services() -> BTreeSet<String> {
    std::fs::read_dir(workspace().join("functions"))
        .expect("functions/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("Cargo.toml").exists())
        .map(|path| {
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn every_substitution_used_is_declared() {
    let build = cloudbuild();
    let declared: BTreeSet<String> = build["substitutions"]
        .as_mapping()
        .expect("substitutions")
        .keys()
        .map(|k| k.as_str().expect("name").to_owned())
        .collect();
    let mut used = Vec::new();
    strings(&build["steps"], &mut used);
    strings(&build["images"], &mut used);
    let missing: Vec<_> = used
        .iter()
        .flat_map(|s| substitutions_in(s))
        .filter(|name| !declared.contains(name))
        .collect();
    assert!(missing.is_empty(), "used but not declared: {missing:?}");
}

#[test]
fn every_service_is_built_pushed_and_deployed_and_nothing_else() {
    let build = cloudbuild();
    let ids: BTreeSet<&str> = steps(&build).iter().map(id).collect();
    let services = services();
    assert!(!services.is_empty());
    for service in &services {
        for stage in ["build", "push", "deploy"] {
            assert!(
                ids.contains(format!("{stage}-{service}").as_str()),
                "no {stage}-{service} step"
            );
        }
        let deploy = steps(&build)
            .iter()
            .find(|s| id(s) == format!("deploy-{service}"))
            .expect("deploy");
        let mut args = Vec::new();
        strings(&deploy["args"], &mut args);
        for flag in ["--no-allow-unauthenticated", "--cpu-boost"] {
            assert!(
                args.iter().any(|a| a == flag),
                "deploy-{service} lacks {flag}"
            );
        }
        assert!(args
            .iter()
            .any(|a| a.starts_with(&format!("--service-account={service}@"))));
        assert!(args
            .iter()
            .any(|a| a.contains(&format!("PUSH_AUDIENCE=https://{service}-"))));
    }
    for id in &ids {
        if let Some(service) = id.strip_prefix("deploy-") {
            assert!(
                services.contains(service),
                "{id} deploys {service}, which is not in functions/"
            );
        }
    }
}

#[test]
fn step_ids_are_unique_and_wait_for_existing_steps() {
    let build = cloudbuild();
    let mut seen = BTreeSet::new();
    for step in steps(&build) {
        assert!(seen.insert(id(step)), "duplicate step id {}", id(step));
        let mut waits = Vec::new();
        strings(&step["waitFor"], &mut waits);
        for wait in waits {
            assert!(
                wait == "-" || seen.contains(wait.as_str()),
                "{} waits for unknown or later step {wait}",
                id(step)
            );
        }
    }
}

#[test]
fn the_substitution_scanner_sees_both_spellings() {
    let found = substitutions_in("a ${_REGION} b $_REPO c $PROJECT_ID ${SHORT_SHA}");
    assert_eq!(
        found,
        BTreeSet::from(["_REGION".to_owned(), "_REPO".to_owned()])
    );
}

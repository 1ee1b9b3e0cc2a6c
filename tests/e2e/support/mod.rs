//! Reading the repository's own files for the consistency tests: the workspace root and
//! `cloudbuild.yaml` as YAML, its steps and their arguments.
#![allow(dead_code)] // each test binary uses its own part

use std::{collections::BTreeSet, path::Path};

use serde_yaml_ng::Value;

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
}

pub fn cloudbuild() -> Value {
    let text =
        std::fs::read_to_string(workspace().join("cloudbuild.yaml")).expect("cloudbuild.yaml");
    serde_yaml_ng::from_str(&text).expect("cloudbuild.yaml is YAML")
}

pub fn steps(build: &Value) -> &Vec<Value> {
    build["steps"].as_sequence().expect("steps")
}

pub fn id(step: &Value) -> &str {
    step["id"].as_str().expect("every step has an id")
}

/// Every string in `value`, depth first.
pub fn strings(value: &Value, out: &mut Vec<String>) {
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

/// The step with this id, if any.
pub fn find_step<'a>(build: &'a Value, step_id: &str) -> Option<&'a Value> {
    steps(build).iter().find(|s| id(s) == step_id)
}

pub fn step<'a>(build: &'a Value, step_id: &str) -> &'a Value {
    find_step(build, step_id).unwrap_or_else(|| panic!("no {step_id} step"))
}

pub fn args_of(step: &Value) -> Vec<String> {
    let mut args = Vec::new();
    strings(&step["args"], &mut args);
    args
}

/// Every step `step_id` waits for, directly or through the steps it waits for.
pub fn waits_for(build: &Value, step_id: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut todo = vec![step_id.to_owned()];
    while let Some(next) = todo.pop() {
        let mut waits = Vec::new();
        strings(&step(build, &next)["waitFor"], &mut waits);
        for wait in waits.into_iter().filter(|w| w != "-") {
            if found.insert(wait.clone()) {
                todo.push(wait);
            }
        }
    }
    found
}

/// The crates under `functions/` (folders with a `Cargo.toml`), by folder name.
pub fn service_folders() -> BTreeSet<String> {
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

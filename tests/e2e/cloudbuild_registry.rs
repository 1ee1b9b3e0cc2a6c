//! `cloudbuild.yaml` agrees with the service registry (`events::platform::SERVICES`). Cloud
//! Build reads the YAML as it is, so it stays hand-written; this test is what keeps it in step:
//! every `built` service has its build, push, migrate-job, migrate and deploy steps, the deploy
//! carries the registry's request timeout, environment variables, secrets and the service's
//! own account, `bootstrap-apply` waits for every deploy, and no step or image names a service
//! the registry does not build. Each failure names the service and the step or flag.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use events::platform::{self, ServiceSpec};
use serde_yaml_ng::Value;
use support::{args_of, cloudbuild, find_step, id, steps, strings};

/// The stages every built service goes through, as step id prefixes (`deploy-NAME`).
const STAGES: &[&str] = &["build", "push", "migrate-job", "migrate", "deploy"];

/// Variables every deployed service gets from the build itself, besides the registry's own.
const COMMON_ENV: &[&str] = &[
    "GOOGLE_CLOUD_PROJECT",
    "SECRET_STORE",
    "OBJECT_STORE_URL",
    "PUSH_AUDIENCE",
    "PUSH_ALLOWED_EMAILS",
];

/// The value of the one `--FLAG=` argument, if there is exactly one.
fn flag<'a>(args: &'a [String], name: &str) -> Result<&'a str, String> {
    let prefix = format!("--{name}=");
    let values: Vec<&str> = args
        .iter()
        .filter_map(|a| a.strip_prefix(&prefix))
        .collect();
    match values[..] {
        [one] => Ok(one),
        [] => Err(format!("has no --{name}")),
        _ => Err(format!("has --{name} {} times", values.len())),
    }
}

/// `--set-env-vars` as key → value, with gcloud's `^DELIM^` escape for another separator.
fn env_vars(value: &str) -> BTreeMap<String, String> {
    let (separator, list) = match value.strip_prefix('^').and_then(|v| v.split_once('^')) {
        Some((separator, list)) => (separator, list),
        None => (",", value),
    };
    list.split(separator)
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// What `deploy-NAME` gets wrong about `spec`, one line per flag.
fn deploy_disagreements(spec: &ServiceSpec, deploy: &Value) -> Vec<String> {
    let args = args_of(deploy);
    let at = |what: String| format!("deploy-{} {what}", spec.name);
    let mut wrong = Vec::new();
    let timeout = format!("{}s", spec.deploy.timeout_secs);
    match flag(&args, "timeout") {
        Ok(value) if value == timeout => {}
        Ok(value) => wrong.push(at(format!(
            "has --timeout={value}, the registry says {timeout}"
        ))),
        Err(e) => wrong.push(at(e)),
    }
    let account = format!("{}@$PROJECT_ID.iam.gserviceaccount.com", spec.name);
    match flag(&args, "service-account") {
        Ok(value) if value == account => {}
        Ok(value) => wrong.push(at(format!("runs as {value}, not {account}"))),
        Err(e) => wrong.push(at(e)),
    }
    match flag(&args, "set-env-vars").map(env_vars) {
        Ok(vars) => {
            for (key, value) in spec.deploy.env {
                match vars.get(*key) {
                    Some(set) if set == value => {}
                    Some(set) => wrong.push(at(format!(
                        "--set-env-vars has {key}={set}, the registry says {key}={value}"
                    ))),
                    None => wrong.push(at(format!("--set-env-vars lacks {key}={value}"))),
                }
            }
            for key in vars.keys() {
                let registered = spec.deploy.env.iter().any(|(k, _)| k == key);
                if !registered && !COMMON_ENV.contains(&key.as_str()) {
                    wrong.push(at(format!(
                        "--set-env-vars sets {key}, which is not in its registry entry's deploy.env"
                    )));
                }
            }
        }
        Err(e) => wrong.push(at(e)),
    }
    match flag(&args, "set-secrets") {
        Ok(value) => {
            let set: BTreeSet<&str> = value.split(',').collect();
            let expected: BTreeSet<String> = spec
                .deploy
                .secrets
                .iter()
                .map(|(var, secret)| format!("{var}=${{{secret}}}:latest"))
                .collect();
            let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
            if set != expected {
                wrong.push(at(format!(
                    "--set-secrets is {set:?}, the registry's deploy.secrets make {expected:?}"
                )));
            }
        }
        Err(e) if spec.deploy.secrets.is_empty() => drop(e),
        Err(e) => wrong.push(at(e)),
    }
    wrong
}

/// The service a step is about, from its id (`migrate-job-NAME` before `migrate-NAME`).
fn service_of(step_id: &str) -> Option<&str> {
    let mut stages = STAGES.to_vec();
    stages.sort_by_key(|s| std::cmp::Reverse(s.len()));
    stages
        .iter()
        .find_map(|stage| step_id.strip_prefix(&format!("{stage}-")))
}

/// Every disagreement between `build` and the registry.
fn disagreements(build: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    for spec in platform::built() {
        for stage in STAGES {
            if find_step(build, &format!("{stage}-{}", spec.name)).is_none() {
                wrong.push(format!("{}: no {stage}-{} step", spec.name, spec.name));
            }
        }
        if let Some(deploy) = find_step(build, &format!("deploy-{}", spec.name)) {
            wrong.extend(deploy_disagreements(spec, deploy));
        }
    }
    let mut waits = Vec::new();
    match find_step(build, "bootstrap-apply") {
        Some(apply) => strings(&apply["waitFor"], &mut waits),
        None => wrong.push("no bootstrap-apply step".to_owned()),
    }
    for spec in platform::built() {
        if !waits.contains(&format!("deploy-{}", spec.name)) {
            wrong.push(format!(
                "{}: bootstrap-apply does not wait for deploy-{}",
                spec.name, spec.name
            ));
        }
    }
    let built = |name: &str| platform::service(name).is_some_and(|s| s.built);
    for step_id in steps(build).iter().map(id) {
        if let Some(name) = service_of(step_id).filter(|name| !built(name)) {
            wrong.push(format!(
                "step {step_id} names `{name}`, which is not a built service of the registry"
            ));
        }
    }
    let mut images = Vec::new();
    strings(&build["images"], &mut images);
    for image in &images {
        let name = image
            .rsplit('/')
            .next()
            .and_then(|last| last.split(':').next())
            .unwrap_or_default();
        if !built(name) {
            wrong.push(format!(
                "image {image} names `{name}`, which is not a built service of the registry"
            ));
        }
    }
    for spec in platform::built() {
        if !images
            .iter()
            .any(|i| i.contains(&format!("/{}:", spec.name)))
        {
            wrong.push(format!("{}: not in images", spec.name));
        }
    }
    wrong
}

#[test]
fn cloudbuild_yaml_builds_migrates_and_deploys_every_built_service_as_registered() {
    let wrong = disagreements(&cloudbuild());
    assert!(wrong.is_empty(), "cloudbuild.yaml:\n{}", wrong.join("\n"));
}

/// The YAML with `edit` applied to the text: each check above must be able to fail.
fn disagreements_after(edit: impl Fn(String) -> String) -> Vec<String> {
    let text = std::fs::read_to_string(support::workspace().join("cloudbuild.yaml"))
        .expect("cloudbuild.yaml");
    disagreements(&serde_yaml_ng::from_str(&edit(text)).expect("still YAML"))
}

#[test]
fn each_disagreement_is_named_with_the_service_and_the_flag() {
    let spec = platform::built().next().expect("a built service");
    let name = spec.name;
    let timeout = format!("--timeout={}s", spec.deploy.timeout_secs);

    let wrong = disagreements_after(|t| t.replacen(&timeout, "--timeout=3600s", 1));
    assert!(
        wrong.contains(&format!(
            "deploy-{name} has --timeout=3600s, the registry says {}s",
            spec.deploy.timeout_secs
        )),
        "{wrong:?}"
    );

    let wrong = disagreements_after(|t| {
        t.replace(":latest,MANAGED_DATABASE_URL=", ":latest,MANAGED_DB=")
            .replacen("PUSH_ALLOWED_EMAILS=", "QUOTA=1;PUSH_ALLOWED_EMAILS=", 1)
    });
    assert!(
        wrong
            .iter()
            .any(|w| w.starts_with(&format!("deploy-{name} --set-secrets is"))),
        "{wrong:?}"
    );
    assert!(
        wrong.contains(&format!(
            "deploy-{name} --set-env-vars sets QUOTA, which is not in its registry entry's deploy.env"
        )),
        "{wrong:?}"
    );

    let wrong = disagreements_after(|t| t.replace(&format!("\"deploy-{name}\", "), ""));
    assert!(
        wrong.contains(&format!(
            "{name}: bootstrap-apply does not wait for deploy-{name}"
        )),
        "{wrong:?}"
    );

    let wrong = disagreements_after(|t| {
        t.replace(&format!("id: migrate-{name}\n"), "id: migrate-elsewhere\n")
    });
    assert!(
        wrong.contains(&format!("{name}: no migrate-{name} step")),
        "{wrong:?}"
    );
    assert!(
        wrong.contains(&"step migrate-elsewhere names `elsewhere`, which is not a built service of the registry".to_owned()),
        "{wrong:?}"
    );
}

#[test]
fn registry_env_and_secrets_reach_the_deploy_flags() {
    // A registry entry with a variable and a secret cloudbuild.yaml lacks.
    let spec = platform::built().next().expect("a built service");
    let wider = ServiceSpec {
        deploy: platform::Deploy {
            env: &[("ROTATION_WINDOW", "${_WINDOW}")],
            secrets: &[("API_KEY", "_API_KEY_SECRET")],
            ..spec.deploy
        },
        ..*spec
    };
    let build = cloudbuild();
    let deploy = find_step(&build, &format!("deploy-{}", spec.name)).expect("deploy step");
    let wrong = deploy_disagreements(&wider, deploy);
    let name = spec.name;
    assert!(
        wrong.contains(&format!(
            "deploy-{name} --set-env-vars lacks ROTATION_WINDOW=${{_WINDOW}}"
        )),
        "{wrong:?}"
    );
    assert!(
        wrong.iter().any(
            |w| w.starts_with(&format!("deploy-{name} --set-secrets is"))
                && w.contains("API_KEY=${_API_KEY_SECRET}:latest")
        ),
        "{wrong:?}"
    );
}

#[test]
fn gcloud_env_var_lists_are_read_with_their_own_separator() {
    let vars = env_vars("^;^A=1,2;B=x");
    assert_eq!(vars["A"], "1,2");
    assert_eq!(vars["B"], "x");
    assert_eq!(env_vars("A=1,B=2").len(), 2);
    assert_eq!(service_of("migrate-job-x"), Some("x"));
    assert_eq!(service_of("migrate-x"), Some("x"));
    assert_eq!(service_of("lint"), None);
}

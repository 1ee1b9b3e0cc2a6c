//! `cloudbuild.yaml` is consistent: every substitution it uses is declared, every service in
//! the workspace is built, pushed and deployed (and nothing else is), step ids are unique and
//! every `waitFor` names a step, every deployed service carries the platform kind label, and
//! images are tagged with a substitution that exists in every build, and every service's
//! control database is migrated (once, by a Cloud Run job of the same image) before the service
//! is deployed. No Docker engine here, so the images themselves are not built.

mod support;

use std::collections::BTreeSet;

use events::{labels, platform};
use support::{args_of, cloudbuild, id, step, steps, strings, waits_for};

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
    support::service_folders()
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

/// The `--labels=` of a deploy step as key → value.
fn deploy_labels(args: &[String]) -> labels::Labels {
    args.iter()
        .filter_map(|a| a.strip_prefix("--labels="))
        .flat_map(|list| list.split(','))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn every_deployed_service_is_labelled_a_managed_platform_service() {
    let build = cloudbuild();
    let mut deployed = 0;
    for step in steps(&build) {
        let Some(service) = id(step).strip_prefix("deploy-") else {
            continue;
        };
        deployed += 1;
        assert!(
            platform::PLATFORM_SERVICES.contains(&service),
            "{service} is deployed but not in events::platform::PLATFORM_SERVICES"
        );
        let mut args = Vec::new();
        strings(&step["args"], &mut args);
        let labels = deploy_labels(&args);
        assert!(labels::is_managed(&labels), "deploy-{service}: {labels:?}");
        // The kind label tells a platform service from an environment preview (`env-NAME`,
        // also managed-by=groundskeeper): without it a sweep by label could take one for
        // the other.
        assert_eq!(
            labels.get(labels::KIND).map(String::as_str),
            Some(labels::KIND_PLATFORM),
            "deploy-{service}: {labels:?}"
        );
        assert!(
            !labels.contains_key(labels::ENVIRONMENT),
            "deploy-{service} must not look like an environment resource: {labels:?}"
        );
    }
    assert_eq!(deployed, services().len());
}

/// Built-in substitutions that are empty unless the build was started by a trigger from a
/// repository (`gcloud builds submit` from a working copy leaves them empty).
const TRIGGER_ONLY: &[&str] = &[
    "SHORT_SHA",
    "COMMIT_SHA",
    "REVISION_ID",
    "BRANCH_NAME",
    "TAG_NAME",
    "REPO_NAME",
];

#[test]
fn images_are_tagged_with_a_substitution_every_build_has() {
    let build = cloudbuild();
    let mut used = Vec::new();
    strings(&build["steps"], &mut used);
    strings(&build["images"], &mut used);
    let registry = "-docker.pkg.dev/";
    let references: Vec<&String> = used.iter().filter(|s| s.contains(registry)).collect();
    assert!(!references.is_empty());
    for reference in references {
        let image = reference.rsplit('=').next().expect("image reference");
        let (_, tag) = image
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("{image} has no tag"));
        assert_eq!(tag, "$BUILD_ID", "{reference}");
        for name in TRIGGER_ONLY {
            assert!(
                !reference.contains(name),
                "{reference} uses ${name}, empty under a manual gcloud builds submit"
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
fn every_deployed_service_is_migrated_before_it_is_deployed() {
    let build = cloudbuild();
    for service in services() {
        let job = format!("{service}-migrate");
        let deploy_args = args_of(step(&build, &format!("deploy-{service}")));
        let image = deploy_args
            .iter()
            .find(|a| a.starts_with("--image="))
            .expect("deploy has --image");

        // The job: the service's own image (the migrations it was built with), run as the
        // service's account with the same control database, told to `migrate`.
        let job_args = args_of(step(&build, &format!("migrate-job-{service}")));
        for expected in ["run", "jobs", "deploy", job.as_str(), "--args=migrate"] {
            assert!(
                job_args.iter().any(|a| a == expected),
                "migrate-job-{service} lacks {expected}: {job_args:?}"
            );
        }
        assert!(
            job_args.contains(image),
            "migrate-job-{service}: {job_args:?}"
        );
        assert!(job_args
            .iter()
            .any(|a| a.starts_with(&format!("--service-account={service}@"))));
        assert!(
            job_args
                .iter()
                .any(|a| a.starts_with("--set-secrets=") && a.contains("DATABASE_URL=")),
            "migrate-job-{service} has no DATABASE_URL: {job_args:?}"
        );
        let job_labels = deploy_labels(&job_args);
        assert!(labels::is_managed(&job_labels), "{job}: {job_labels:?}");
        assert_eq!(
            job_labels.get(labels::KIND).map(String::as_str),
            Some(labels::KIND_PLATFORM)
        );

        // Executed, and waited for, once per build.
        let run_args = args_of(step(&build, &format!("migrate-{service}")));
        for expected in ["run", "jobs", "execute", job.as_str(), "--wait"] {
            assert!(
                run_args.iter().any(|a| a == expected),
                "migrate-{service} lacks {expected}: {run_args:?}"
            );
        }
        let before_run = waits_for(&build, &format!("migrate-{service}"));
        assert!(
            before_run.contains(&format!("migrate-job-{service}")),
            "migrate-{service} runs before its job is deployed"
        );
        assert!(
            waits_for(&build, &format!("migrate-job-{service}"))
                .contains(&format!("push-{service}")),
            "migrate-job-{service} deploys an image not yet pushed"
        );
        assert!(
            waits_for(&build, &format!("deploy-{service}")).contains(&format!("migrate-{service}")),
            "deploy-{service} does not wait for migrate-{service}"
        );
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

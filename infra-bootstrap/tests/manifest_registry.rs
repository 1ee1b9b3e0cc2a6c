//! The manifests derive from the service registry (`events::platform::SERVICES`): a
//! `[[service]]` that leaves out its topics, probe or (in google mode) roles or ack deadline
//! gets the registry's, one that writes them keeps its own, one the registry does not know is
//! refused naming it, and every checked-in manifest lists exactly the registry's services.

use std::collections::BTreeSet;

use events::platform::{self, SERVICES};
use infra_bootstrap::manifest::{Manifest, ManifestError};

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{}/manifests/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("manifest file")
}

/// A google-mode manifest with one `[[service]]` named `name` and `extra` lines.
fn google(name: &str, extra: &str) -> String {
    format!(
        r#"
project = "p"
mode = "google"
region = "europe-west1"
[iam]
pubsub_service_agent = "service-1@gcp-sa-pubsub.iam.gserviceaccount.com"
[[service]]
name = "{name}"
push_endpoint = "https://{name}-1.europe-west1.run.app/"
oidc = {{ service_account = "push@p.iam.gserviceaccount.com", audience = "https://{name}-1.europe-west1.run.app" }}
runtime_account = "{name}@p.iam.gserviceaccount.com"
{extra}
"#
    )
}

/// Delivery attempts are the project's to choose, not the registry's: a service whose claim
/// on a message outlasts the default retries (backup-runner's 1200 s) must name enough
/// attempts itself, or the manifest is refused (tests/manifest.rs).
fn enough_attempts(spec: &platform::ServiceSpec) -> &'static str {
    if spec.name == "backup-runner" {
        "max_delivery_attempts = 20"
    } else {
        ""
    }
}

#[test]
fn a_service_that_leaves_them_out_gets_the_registrys_topics_roles_probe_and_deadline() {
    for spec in SERVICES {
        let manifest = Manifest::parse(&google(spec.name, enough_attempts(spec))).expect("valid");
        let service = manifest.service(spec.name).expect("the service");
        assert_eq!(service.topics, spec.topics, "{}: topics", spec.name);
        assert_eq!(service.roles, spec.roles, "{}: roles", spec.name);
        assert_eq!(
            service.settings.ack_deadline_secs, spec.deploy.ack_deadline_secs,
            "{}: ack deadline",
            spec.name
        );
        let probe = service.probe.as_ref().expect("a probe");
        assert_eq!(probe.event_type, spec.probe.event_type, "{}", spec.name);
        let data: serde_json::Value = serde_json::from_str(spec.probe.data_json).expect("json");
        assert_eq!(
            serde_json::to_value(&probe.data).expect("json"),
            data,
            "{}: probe body",
            spec.name
        );
        let attributes: Vec<(&str, &str)> = probe
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut expected = spec.probe.attributes.to_vec();
        expected.sort_unstable();
        assert_eq!(attributes, expected, "{}: probe attributes", spec.name);
    }
}

#[test]
fn values_written_in_the_manifest_win_over_the_registry() {
    let text = google(
        "secret-rotator",
        r#"topics = ["rotation-due-eu"]
roles = ["projects/p/roles/rotator"]
ack_deadline_secs = 90
[service.probe]
event_type = "google.cloud.secretmanager.secret.v1.notification"
data = {}
attributes = { eventType = "SECRET_DELETE", secretId = "projects/1/secrets/x" }"#,
    );
    let manifest = Manifest::parse(&text).expect("valid");
    let service = manifest.service("secret-rotator").expect("the service");
    assert_eq!(service.topics, ["rotation-due-eu"]);
    assert_eq!(service.roles, ["projects/p/roles/rotator"]);
    assert_eq!(service.settings.ack_deadline_secs, Some(90));
    let probe = service.probe.as_ref().expect("probe");
    assert_eq!(probe.attributes["eventType"], "SECRET_DELETE");

    // Written empty is not left out: a project may grant nothing.
    let manifest = Manifest::parse(&google("secret-rotator", "roles = []")).expect("valid");
    assert!(manifest.services[0].roles.is_empty());
}

#[test]
fn the_emulator_gets_topics_and_probes_but_no_roles_or_deploy_deadlines() {
    let local = Manifest::parse(&read("local.toml")).expect("local.toml");
    for service in &local.services {
        let spec = platform::service(&service.name).expect("registered");
        assert_eq!(service.topics, spec.topics, "{}", service.name);
        assert!(service.probe.is_some(), "{}", service.name);
        assert!(
            service.roles.is_empty(),
            "{}: {:?}",
            service.name,
            service.roles
        );
        assert_eq!(service.settings.ack_deadline_secs, None, "{}", service.name);
    }
}

#[test]
fn a_service_the_registry_does_not_know_is_refused_naming_it() {
    let refused = Manifest::parse(&google("backup-runer", ""));
    match refused {
        Err(ManifestError::Invalid { field, reason }) => {
            assert_eq!(field, "service[backup-runer].name");
            assert!(
                reason.contains("`backup-runer` is not a registered service"),
                "{reason}"
            );
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    // Writing out everything the registry would give does not make it known.
    let text = read("local.toml").replace(
        "name = \"budget-guard\"",
        "name = \"cost-guard\"\ntopics = [\"budget-alerts\"]",
    );
    assert!(
        matches!(Manifest::parse(&text), Err(ManifestError::Invalid { field, .. }) if field == "service[cost-guard].name")
    );
}

/// Services `file` lists that the registry lacks, and registry services it lacks.
fn disagreement(file: &str) -> (Vec<String>, Vec<&'static str>) {
    let text = read(file);
    // Read the names from the TOML itself: `Manifest::parse` already refuses unknown ones.
    let table: toml::Table = toml::from_str(&text).expect("TOML");
    let listed: BTreeSet<String> = table["service"]
        .as_array()
        .expect("[[service]]")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_owned())
        .collect();
    let extra = listed
        .iter()
        .filter(|name| platform::service(name).is_none())
        .cloned()
        .collect();
    let missing = platform::names()
        .filter(|name| !listed.contains(*name))
        .collect();
    (extra, missing)
}

#[test]
fn each_checked_in_manifest_lists_exactly_the_registrys_services() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("manifests/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "{files:?}");
    let mut wrong = Vec::new();
    for file in &files {
        let (extra, missing) = disagreement(file);
        if extra.is_empty() {
            Manifest::parse(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        for name in extra {
            wrong.push(format!(
                "manifests/{file} lists `{name}`, which is not in the registry"
            ));
        }
        for name in missing {
            wrong.push(format!("manifests/{file} lacks a [[service]] for `{name}`"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn local_push_endpoints_are_on_the_registrys_local_ports() {
    let local = Manifest::parse(&read("local.toml")).expect("local.toml");
    let mut wrong = Vec::new();
    for service in &local.services {
        let spec = platform::service(&service.name).expect("registered");
        let url = reqwest::Url::parse(&service.push_endpoint).expect("URL");
        if url.port() != Some(spec.local.port) {
            wrong.push(format!(
                "manifests/local.toml: `{}` pushes to {}, its registry local.port is {}",
                service.name, service.push_endpoint, spec.local.port
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

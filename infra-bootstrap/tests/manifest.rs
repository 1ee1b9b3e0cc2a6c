//! The manifest: the checked-in files parse, their doctor probes decode as the services'
//! events, and each kind of mistake is refused with an error naming its field. What a
//! `[[service]]` leaves out comes from the service registry: see `manifest_registry.rs`.

use infra_bootstrap::manifest::{Manifest, ManifestError, Mode};

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{}/manifests/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("manifest file")
}

fn refused_field(text: &str) -> String {
    match Manifest::parse(text) {
        Err(ManifestError::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn checked_in_manifests_are_valid() {
    let local = Manifest::parse(&read("local.toml")).expect("local.toml");
    assert_eq!(local.mode, Mode::Emulator);
    let prod = Manifest::parse(&read("production.example.toml")).expect("production.example.toml");
    assert_eq!(prod.mode, Mode::Google);
    for m in [&local, &prod] {
        let schedules: Vec<(&str, &str)> = m
            .jobs
            .iter()
            .map(|j| (j.name.as_str(), j.schedule.as_str()))
            .collect();
        assert!(schedules.contains(&("rotation-sweep", "0 2 * * *")));
        assert!(schedules.contains(&("backup-window", "0 3 * * *")));
        assert!(schedules.contains(&("environment-ttl-sweep", "0 * * * *")));
        assert_eq!(m.events_topic, "groundskeeper-events");
    }
}

#[test]
fn event_types_of_jobs_are_the_events_crate_constants() {
    let local = Manifest::parse(&read("local.toml")).expect("local.toml");
    let ty = |job: &str| local.job(job).expect("job").event_type.clone();
    assert_eq!(ty("rotation-sweep"), events::types::ROTATION_DUE);
    assert_eq!(ty("backup-window"), events::types::BACKUP_WINDOW);
    assert_eq!(
        ty("environment-ttl-sweep"),
        events::types::ENVIRONMENT_TTL_SWEEP
    );
}

#[test]
fn unknown_service_in_a_job_is_refused() {
    let text = read("local.toml").replace(
        "service = \"secret-rotator\"\ntopic",
        "service = \"secret-rotater\"\ntopic",
    );
    assert_eq!(refused_field(&text), "job[rotation-sweep].service");
}

#[test]
fn bad_cron_is_refused() {
    let text = read("local.toml").replace("schedule = \"0 3 * * *\"", "schedule = \"0 25 * * *\"");
    assert_eq!(refused_field(&text), "job[backup-window].schedule");
    let text =
        read("local.toml").replace("time_zone = \"Etc/UTC\"", "time_zone = \"Mars/Olympus\"");
    assert_eq!(refused_field(&text), "job[rotation-sweep].time_zone");
}

#[test]
fn missing_audience_for_a_production_push_is_refused() {
    let text = read("production.example.toml").replacen(
        ", audience = \"https://secret-rotator-123456789012.europe-west1.run.app\"",
        "",
        1,
    );
    assert_eq!(
        refused_field(&text),
        "service[secret-rotator].oidc.audience"
    );
    let text = read("production.example.toml").replacen("oidc = { service_account = \"gk-pubsub-push@acme-platform-prod.iam.gserviceaccount.com\", audience = \"https://env-provisioner-123456789012.europe-west1.run.app\" }\n", "", 1);
    assert_eq!(refused_field(&text), "service[env-provisioner].oidc");
}

/// Retries that end before a killed instance's claim expires would dead-letter what it was
/// doing instead of resuming it (the fault suite's kill -9 left an environment half-made
/// with the local stack's old 5 attempts, over about 5 s).
#[test]
fn retries_that_give_up_before_a_crashed_claim_expires_are_refused() {
    let text =
        read("local.toml").replace("max_delivery_attempts = 20", "max_delivery_attempts = 16");
    assert_eq!(
        refused_field(&text),
        "service[env-provisioner].max_delivery_attempts"
    );
    let text =
        read("local.toml").replace("max_delivery_attempts = 40", "max_delivery_attempts = 35");
    assert_eq!(
        refused_field(&text),
        "service[backup-runner].max_delivery_attempts"
    );
}

#[test]
fn too_few_delivery_attempts_are_refused() {
    let text =
        read("local.toml").replace("max_delivery_attempts = 20", "max_delivery_attempts = 4");
    assert_eq!(
        refused_field(&text),
        "service[env-provisioner].max_delivery_attempts"
    );
    // A per-service override is checked too.
    let text = read("local.toml").replace(
        "push_endpoint = \"http://127.0.0.1:8084/\"",
        "push_endpoint = \"http://127.0.0.1:8084/\"\nmax_delivery_attempts = 2",
    );
    assert_eq!(
        refused_field(&text),
        "service[budget-guard].max_delivery_attempts"
    );
}

#[test]
fn unknown_keys_and_bad_amounts_are_refused() {
    let text = read("local.toml").replace("ack_deadline_secs = 60", "ack_deadline = 60");
    assert!(
        matches!(Manifest::parse(&text), Err(ManifestError::Syntax(e)) if e.contains("ack_deadline"))
    );
    let text = read("production.example.toml").replace("\"250.50\"", "\"250,50\"");
    assert_eq!(refused_field(&text), "budgets.tier[dev].amount");
}

#[test]
fn runtime_roles_need_a_usable_account_and_role_names() {
    let runtime =
        "runtime_account = \"secret-rotator@acme-platform-prod.iam.gserviceaccount.com\"\n";
    let text = read("production.example.toml").replacen(runtime, "", 1);
    assert_eq!(
        refused_field(&text),
        "service[secret-rotator].runtime_account"
    );
    let text = read("production.example.toml").replacen(
        runtime,
        "runtime_account = \"serviceAccount:secret-rotator@acme-platform-prod.iam.gserviceaccount.com\"\n",
        1,
    );
    assert_eq!(
        refused_field(&text),
        "service[secret-rotator].runtime_account"
    );
    // The example takes its roles from the registry: write one that is not a role name.
    let text = read("production.example.toml").replacen(
        "runtime_account = \"env-provisioner@",
        "roles = [\"run.developer\"]\nruntime_account = \"env-provisioner@",
        1,
    );
    assert_eq!(refused_field(&text), "service[env-provisioner].roles");
}

/// The probe's valid message, as Pub/Sub would push it, through the services' own decoder.
fn decode_probe<T: events::Payload>(manifest: &Manifest, service: &str) -> Result<T, String> {
    use base64::Engine as _;
    let service = manifest.service(service).expect("service");
    let probes = infra_bootstrap::doctor::probe::messages(manifest, service, "run")
        .expect("messages")
        .expect("a probe");
    assert_eq!(probes.topic, service.topics[0]);
    let decode = |message: &infra_bootstrap::scheduler::JobMessage| {
        let body = serde_json::json!({
            "message": {
                "data": base64::engine::general_purpose::STANDARD.encode(&message.data),
                "attributes": message.attributes,
                "messageId": "1",
                "publishTime": "2026-01-01T00:00:00Z",
            },
            "subscription": "projects/p/subscriptions/s",
        });
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        events::delivery::decode(&headers, body.to_string().as_bytes())
            .and_then(|raw| raw.typed::<T>())
            .map(|e| e.data)
            .map_err(|e| e.to_string())
    };
    assert!(
        decode(&probes.malformed).is_err(),
        "the malformed probe must be rejected"
    );
    decode(&probes.valid)
}

#[test]
fn production_probes_are_valid_events_of_each_service() {
    use events::backup::BackupRequested;
    use events::budget::BudgetNotification;
    use events::environment::TeardownRequested;
    use events::secret_manager::{SecretEventType, SecretManagerNotification};

    let prod = Manifest::parse(&read("production.example.toml")).expect("valid");
    assert!(prod.services.iter().all(|s| s.probe.is_some()));
    let never = "gk-doctor-probe-never-created";

    let teardown: TeardownRequested = decode_probe(&prod, "env-provisioner").expect("decodes");
    assert_eq!(teardown.name.to_string(), never);
    let notice: SecretManagerNotification = decode_probe(&prod, "secret-rotator").expect("decodes");
    assert_ne!(
        notice.event_type,
        SecretEventType::Rotate,
        "only SECRET_ROTATE rotates"
    );
    let backup: BackupRequested = decode_probe(&prod, "backup-runner").expect("decodes");
    assert_eq!(
        backup.environment.map(|e| e.to_string()).as_deref(),
        Some(never),
        "one environment that does not exist, never all"
    );
    let budget: BudgetNotification = decode_probe(&prod, "budget-guard").expect("decodes");
    assert_eq!(budget.spend_ratio(), Some(0.0), "nothing spent");
    assert_eq!(budget.data.alert_threshold_exceeded, None);
}

/// The `PUSH_AUDIENCE` each service verifies, as `cloudbuild.yaml` deploys it, by service.
fn cloudbuild_audiences() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../cloudbuild.yaml"))
        .expect("cloudbuild.yaml");
    let audiences: Vec<(String, String)> = text
        .split("PUSH_AUDIENCE=")
        .skip(1)
        .map(|rest| {
            let audience = rest.split([';', '\n', '"']).next().expect("value");
            let service = audience
                .strip_prefix("https://")
                .and_then(|a| a.split_once("-$PROJECT_NUMBER"))
                .map(|(service, _)| service.to_owned())
                .unwrap_or_else(|| panic!("audience {audience} is not the deterministic URL"));
            (service, audience.to_owned())
        })
        .collect();
    assert!(
        !audiences.is_empty(),
        "cloudbuild.yaml sets no PUSH_AUDIENCE"
    );
    audiences
}

#[test]
fn example_audiences_are_the_urls_cloudbuild_makes_the_services_verify() {
    let manifest = Manifest::parse(&read("production.example.toml")).expect("valid");
    let region = manifest.region.clone().expect("region");
    // The example's project number, from the Pub/Sub service agent it names.
    let agent = &manifest.iam.as_ref().expect("[iam]").pubsub_service_agent;
    let number = agent
        .strip_prefix("service-")
        .and_then(|a| a.split_once('@'))
        .map(|(n, _)| n)
        .expect("service-NUMBER@...");
    let audience_of = |service: &str| {
        let s = manifest.service(service).expect("service in the example");
        s.oidc
            .as_ref()
            .and_then(|o| o.audience.clone())
            .expect("audience")
    };
    for (service, template) in cloudbuild_audiences() {
        let expected = template
            .replace("$PROJECT_NUMBER", number)
            .replace("${_REGION}", &region);
        assert_eq!(audience_of(&service), expected, "service {service}");
    }
    // Services cloudbuild.yaml does not deploy yet get the same deterministic URL form.
    for s in &manifest.services {
        let run = s.cloud_run_service.as_deref().unwrap_or(&s.name);
        assert_eq!(
            audience_of(&s.name),
            format!("https://{run}-{number}.{region}.run.app"),
            "service {}",
            s.name
        );
    }
}

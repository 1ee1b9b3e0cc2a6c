//! The manifest: the checked-in files parse, and each kind of mistake is refused with an
//! error naming its field.

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
        ", audience = \"https://secret-rotator-3kq7x2a1-ew.a.run.app\"",
        "",
        1,
    );
    assert_eq!(
        refused_field(&text),
        "service[secret-rotator].oidc.audience"
    );
    let text = read("production.example.toml").replacen("oidc = { service_account = \"gk-pubsub-push@acme-platform-prod.iam.gserviceaccount.com\", audience = \"https://env-provisioner-3kq7x2a1-ew.a.run.app\" }\n", "", 1);
    assert_eq!(refused_field(&text), "service[env-provisioner].oidc");
}

#[test]
fn too_few_delivery_attempts_are_refused() {
    let text = read("local.toml").replace("max_delivery_attempts = 5", "max_delivery_attempts = 4");
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

//! The service registry: every groundskeeper service, once, with what the rest of the
//! repository needs to know about it.
//!
//! Adding a service is its folder under `functions/` plus one [`ServiceSpec`] in
//! [`SERVICES`]. Everything else derives from this list — the workspace members (a glob),
//! the test build and `make` (the folders under `functions/`), the local stack (which
//! services run, on which port, with which settings), the bootstrap manifests' topics, roles
//! and doctor probes — or is checked against it by a test that names the place that disagrees
//! (`cloudbuild.yaml`, the manifests' `[[service]]` entries, the README tables, each service's
//! README). The recipe is in CONTRIBUTING.md.
//!
//! No environment resource may take one of these names (see [`crate::names::EnvName`]), and
//! every platform service carries the label [`crate::labels::KIND`] =
//! [`crate::labels::KIND_PLATFORM`], which no environment resource has.

/// One service of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The crate, binary, Cloud Run service and runtime account name (`functions/<name>/`).
    pub name: &'static str,
    /// One line: what it does, for the README's table.
    pub summary: &'static str,
    /// Whether `functions/<name>/` exists yet. A planned service already owns its name, its
    /// topics and its plumbing (the bootstrap creates them), but nothing builds or runs it.
    pub built: bool,
    /// The topics that trigger it: one push subscription `<name>--<topic>` each.
    pub topics: &'static [&'static str],
    /// The IAM roles its runtime account needs on the project: granted by the bootstrap
    /// (a manifest may narrow them) and listed in the root and the service's README.
    pub roles: &'static [&'static str],
    /// How Cloud Build deploys it and how Pub/Sub pushes to it.
    pub deploy: Deploy,
    /// How the local stack runs it.
    pub local: Local,
    /// The valid event `doctor` sends it: one that is acked and changes nothing.
    pub probe: Probe,
}

/// Deploy settings: what `cloudbuild.yaml`'s deploy step and the push subscription carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deploy {
    /// The push subscription's ack deadline when the manifest's default (60 s) is too short.
    pub ack_deadline_secs: Option<i32>,
    /// Cloud Run's request timeout (`--timeout`), below the ack deadline.
    pub timeout_secs: u32,
    /// Environment variables of this service alone (`--set-env-vars`, besides the ones every
    /// service gets), as Cloud Build writes them (substitutions allowed).
    pub env: &'static [(&'static str, &'static str)],
    /// Secret Manager secrets mounted as environment variables (`--set-secrets`):
    /// variable → the Cloud Build substitution naming the secret.
    pub secrets: &'static [(&'static str, &'static str)],
}

/// Local-stack settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    /// The loopback port Pub/Sub pushes to (the stack's ports are fixed so the local
    /// manifest and the README can name them).
    pub port: u16,
    /// Settings the local stack gives it besides the plumbing (a person may override any of
    /// them with `groundskeeper local up --set SERVICE:VAR=VALUE`).
    pub env: &'static [(&'static str, &'static str)],
}

/// doctor's probe: an event type, its JSON body and its extra message attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// CloudEvents type (`ce-type`).
    pub event_type: &'static str,
    /// A valid JSON body for that type.
    pub data_json: &'static str,
    /// Extra message attributes (Google notifications carry their facts there).
    pub attributes: &'static [(&'static str, &'static str)],
}

/// The secrets every service that keeps state reads: the control database and the server it
/// manages.
const DATABASE_SECRETS: &[(&str, &str)] = &[
    ("DATABASE_URL", "_CONTROL_DB_SECRET"),
    ("MANAGED_DATABASE_URL", "_MANAGED_DB_SECRET"),
];

/// Every groundskeeper service that runs on Cloud Run, including those still to be built.
pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        name: "env-provisioner",
        summary: "creates an environment (database, role, object-store prefix or bucket, credentials secret, preview) on request and tears it down when asked or when its TTL ends",
        built: true,
        topics: &["environment-requests"],
        // Previews also need roles/iam.serviceAccountUser on PREVIEW_SERVICE_ACCOUNT (granted
        // on that account, not the project: there it would let this service act as any
        // account). Bucket mode (ENV_STORAGE=bucket) creates and deletes buckets: a manifest
        // then writes roles/storage.admin instead of roles/storage.objectAdmin.
        roles: &[
            "roles/cloudsql.client",
            "roles/secretmanager.admin",
            "roles/storage.objectAdmin",
            "roles/run.developer",
            "roles/pubsub.publisher",
        ],
        deploy: Deploy {
            ack_deadline_secs: Some(120), // provisioning a database takes a while
            timeout_secs: 60,
            env: &[("CLOUD_RUN_REGION", "${_REGION}")],
            secrets: DATABASE_SECRETS,
        },
        local: Local {
            port: 8081,
            env: &[],
        },
        // Tearing down an environment that was never created is "unknown or already
        // deleted": acked, nothing done.
        probe: Probe {
            event_type: "dev.groundskeeper.environment.teardown.requested.v1",
            data_json: r#"{"name":"gk-doctor-probe-never-created","reason":"groundskeeper doctor probe"}"#,
            attributes: &[],
        },
    },
    ServiceSpec {
        name: "secret-rotator",
        summary: "rotates database credentials without downtime when due: new password, new secret version, verified, old version disabled after a grace period",
        built: true,
        topics: &["rotation-due"],
        // Rotation adds, reads and disables versions and moves aliases (secrets.update): no
        // narrower predefined role covers that; a custom role (projects/ID/roles/NAME) may
        // replace the admin in a manifest's `roles`.
        roles: &[
            "roles/cloudsql.client",
            "roles/secretmanager.admin",
            "roles/pubsub.publisher",
        ],
        deploy: Deploy {
            ack_deadline_secs: None,
            timeout_secs: 60,
            env: &[("PROJECT_NUMBER", "$PROJECT_NUMBER")],
            secrets: DATABASE_SECRETS,
        },
        local: Local {
            port: 8082,
            env: &[],
        },
        // A Secret Manager notification other than SECRET_ROTATE is acked and ignored.
        probe: Probe {
            event_type: "google.cloud.secretmanager.secret.v1.notification",
            data_json: "{}",
            attributes: &[
                ("eventType", "TOPIC_CONFIGURED"),
                ("secretId", "projects/0/secrets/gk-doctor-probe"),
            ],
        },
    },
    ServiceSpec {
        name: "backup-runner",
        summary: "streams a verified logical dump of every managed database to object storage in the backup window, applies retention, restores",
        built: true,
        topics: &["backup-window"],
        roles: &[
            "roles/cloudsql.client",
            "roles/storage.objectAdmin",
            "roles/secretmanager.secretAccessor",
            "roles/pubsub.publisher",
        ],
        // A dump gets the longest request Pub/Sub waits for: the runner stops it
        // (BACKUP_REQUEST_BUDGET_SECS, 500) before the runtime's delivery timeout (530),
        // before Cloud Run's request timeout (540), before the ack deadline (600); the lease
        // outlives them all so a redelivery never starts a second dump of a running one.
        deploy: Deploy {
            ack_deadline_secs: Some(600),
            timeout_secs: 540,
            env: &[
                ("DELIVERY_TIMEOUT_SECS", "530"),
                ("IDEMPOTENCY_LEASE_SECS", "1200"),
            ],
            secrets: DATABASE_SECRETS,
        },
        local: Local {
            port: 8083,
            env: &[
                ("DELIVERY_TIMEOUT_SECS", "530"),
                ("IDEMPOTENCY_LEASE_SECS", "1200"),
            ],
        },
        // Without a probe doctor would send this service's job, the backup window: a real
        // backup of every database. Instead a backup of an environment that was never
        // created, which the runner acks as nothing to back up (tested in
        // functions/backup-runner/tests/handler.rs).
        probe: Probe {
            event_type: "dev.groundskeeper.backup.requested.v1",
            data_json: r#"{"environment":"gk-doctor-probe-never-created","reason":"groundskeeper doctor probe"}"#,
            attributes: &[],
        },
    },
    ServiceSpec {
        name: "budget-guard",
        summary: "scales non-production resources down step by step on Cloud Billing budget alerts and restores them exactly when a new budget period starts",
        built: true,
        // Cloud Billing alone publishes to budget-alerts (the bootstrap restricts it); people's
        // requests (`groundskeeper budget resume`) come through budget-requests. That one is
        // first: doctor sends the probe to a service's first topic, and after `apply` doctor
        // may not publish to budget-alerts (the handler treats both topics alike).
        topics: &["budget-requests", "budget-alerts"],
        roles: &[
            "roles/run.developer",
            "roles/cloudsql.editor",
            "roles/pubsub.publisher",
        ],
        // Stopping a Cloud SQL instance is an operation of minutes, polled within the
        // request; the lease on a level outlives the request so a redelivery never applies
        // one that is still running elsewhere.
        deploy: Deploy {
            ack_deadline_secs: Some(600),
            timeout_secs: 540,
            env: &[
                ("BUDGETS", "${_BUDGETS}"),
                ("CLOUD_RUN_LOCATIONS", "projects/$PROJECT_ID/locations/${_REGION}"),
                ("CLOUD_SQL_PROJECTS", "$PROJECT_ID"),
                ("LEVEL_LEASE_SECS", "600"),
            ],
            secrets: DATABASE_SECRETS,
        },
        local: Local {
            port: 8084,
            // The local stack's one budget, for the dev tier; only environments' databases
            // are scale targets locally (no Cloud Run or Cloud SQL here).
            // The tour plays a new budget period a month ahead, which a real notification never
            // announces: the local stack alone lets periods start up to ten years ahead.
            env: &[
                ("BUDGETS", "000000-000000-000000/local-dev=dev"),
                ("PERIOD_MAX_AHEAD_HOURS", "87840"),
            ],
        },
        // Google's documented test message: a notification published by hand without the
        // billingAccountId / budgetId attributes names no budget, and is acked without
        // action. A notification of a budget that is not configured is dead-lettered with
        // its reason (tested in functions/budget-guard/tests/handler.rs).
        probe: Probe {
            event_type: "google.cloud.billing.budgets.v1.notification",
            data_json: r#"{"budgetDisplayName":"gk-doctor-probe","costAmount":0.0,"costIntervalStart":"2024-01-01T00:00:00Z","budgetAmount":1.0,"budgetAmountType":"SPECIFIED_AMOUNT","currencyCode":"EUR"}"#,
            attributes: &[],
        },
    },
];

/// The service with this name.
pub fn service(name: &str) -> Option<&'static ServiceSpec> {
    SERVICES.iter().find(|s| s.name == name)
}

/// The services whose crate exists (built, tested, deployed and run locally).
pub fn built() -> impl Iterator<Item = &'static ServiceSpec> {
    SERVICES.iter().filter(|s| s.built)
}

/// Every service's name, built or planned: names no environment resource may take.
pub fn names() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|s| s.name)
}

/// Every service name, as a list (the form older callers and tests index). Built from
/// [`SERVICES`] at compile time, so a new entry needs nothing here.
pub const PLATFORM_SERVICES: &[&str] = &ALL_NAMES;

const ALL_NAMES: [&str; SERVICES.len()] = {
    let mut names = [""; SERVICES.len()];
    let mut i = 0;
    while i < SERVICES.len() {
        names[i] = SERVICES[i].name;
        i += 1;
    }
    names
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_list_is_the_registry() {
        assert_eq!(PLATFORM_SERVICES.to_vec(), names().collect::<Vec<_>>());
    }

    #[test]
    fn names_ports_and_topics_are_unique_and_probes_are_json() {
        let mut names: Vec<_> = names().collect();
        let mut ports: Vec<_> = SERVICES.iter().map(|s| s.local.port).collect();
        names.sort_unstable();
        names.dedup();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(names.len(), SERVICES.len(), "a service name appears twice");
        assert_eq!(
            ports.len(),
            SERVICES.len(),
            "two services share a local port"
        );
        for spec in SERVICES {
            assert!(!spec.topics.is_empty(), "{} has no topic", spec.name);
            let data: Result<serde_json::Value, _> = serde_json::from_str(spec.probe.data_json);
            assert!(
                data.is_ok_and(|d| d.is_object()),
                "{}'s probe body is not a JSON object",
                spec.name
            );
            if let Some(ack) = spec.deploy.ack_deadline_secs {
                assert!(
                    (spec.deploy.timeout_secs as i32) < ack,
                    "{}: the request timeout must stay below the ack deadline",
                    spec.name
                );
            }
        }
    }
}

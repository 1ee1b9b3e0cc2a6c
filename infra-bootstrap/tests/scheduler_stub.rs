//! Cloud Scheduler jobs against the official client's stub: the exact CreateJob and UpdateJob
//! requests the bootstrap sends for the production example manifest's jobs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_scheduler_v1::client::CloudScheduler;
use google_cloud_scheduler_v1::model::{CreateJobRequest, Job, UpdateJobRequest};
use infra_bootstrap::manifest::Manifest;
use infra_bootstrap::scheduler::cloud::{desired_jobs, SchedulerJobs, MARK};
use infra_bootstrap::store::Store;

/// Records every write; answers with the job it was sent.
#[derive(Debug, Default)]
struct FakeScheduler {
    creates: Mutex<Vec<CreateJobRequest>>,
    updates: Mutex<Vec<UpdateJobRequest>>,
}

impl google_cloud_scheduler_v1::stub::CloudScheduler for FakeScheduler {
    async fn create_job(
        &self,
        req: CreateJobRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Job>> {
        self.creates.lock().expect("lock").push(req.clone());
        Ok(Response::from(req.job.unwrap_or_default()))
    }

    async fn update_job(
        &self,
        req: UpdateJobRequest,
        _: RequestOptions,
    ) -> google_cloud_gax::Result<Response<Job>> {
        self.updates.lock().expect("lock").push(req.clone());
        Ok(Response::from(req.job.unwrap_or_default()))
    }
}

fn jobs(fake: &Arc<FakeScheduler>) -> (Manifest, SchedulerJobs) {
    let manifest = Manifest::parse(include_str!("../manifests/production.example.toml"))
        .expect("the example manifest parses");
    let store = SchedulerJobs {
        client: CloudScheduler::from_stub::<FakeScheduler>(fake.clone()),
        project: manifest.project.clone(),
        location: manifest.region.clone().expect("a region"),
    };
    (manifest, store)
}

/// What a job of ours must carry, field by field.
fn assert_job(job: &Job, name: &str, schedule: &str, topic: &str, ty: &str) {
    let parent = "projects/acme-platform-prod/locations/europe-west1";
    assert_eq!(job.name, format!("{parent}/jobs/{name}"));
    assert_eq!(job.schedule, schedule);
    assert_eq!(job.time_zone, "Etc/UTC");
    assert!(job.description.starts_with(MARK), "{}", job.description);
    let target = job.pubsub_target().expect("a Pub/Sub target");
    assert_eq!(
        target.topic_name,
        format!("projects/acme-platform-prod/topics/{topic}")
    );
    let attributes: BTreeMap<_, _> = target.attributes.clone().into_iter().collect();
    let expected: BTreeMap<String, String> = [
        ("ce-specversion", "1.0"),
        ("ce-type", ty),
        ("ce-source", &format!("//groundskeeper/scheduler/{name}")),
        ("content-type", "application/json"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(attributes, expected);
    let body: serde_json::Value = serde_json::from_slice(&target.data).expect("a JSON body");
    assert_eq!(body, serde_json::json!({}));
}

#[tokio::test]
async fn creates_each_job_with_its_schedule_zone_target_attributes_and_json_body() {
    let fake = Arc::new(FakeScheduler::default());
    let (manifest, store) = jobs(&fake);
    for spec in desired_jobs(&manifest).expect("desired jobs") {
        store.create(&spec).await.expect("create");
    }
    let creates = fake.creates.lock().expect("lock").clone();
    let parent = "projects/acme-platform-prod/locations/europe-west1";
    assert!(creates.iter().all(|c| c.parent == parent), "{creates:#?}");
    let by_name: BTreeMap<String, Job> = creates
        .into_iter()
        .map(|c| {
            let job = c.job.expect("a job");
            (job.name.rsplit('/').next().unwrap_or("").to_owned(), job)
        })
        .collect();
    assert_eq!(
        by_name.keys().collect::<Vec<_>>(),
        ["backup-window", "environment-ttl-sweep", "rotation-sweep"]
    );
    assert_job(
        &by_name["rotation-sweep"],
        "rotation-sweep",
        "0 2 * * *",
        "rotation-due",
        "dev.groundskeeper.rotation.due.v1",
    );
    assert_job(
        &by_name["backup-window"],
        "backup-window",
        "0 3 * * *",
        "backup-window",
        "dev.groundskeeper.backup.window.v1",
    );
    assert_job(
        &by_name["environment-ttl-sweep"],
        "environment-ttl-sweep",
        "0 * * * *",
        "environment-requests",
        "dev.groundskeeper.environment.ttl_sweep.v1",
    );
}

#[tokio::test]
async fn updates_send_the_whole_job_with_a_mask_of_the_changed_fields() {
    let fake = Arc::new(FakeScheduler::default());
    let (manifest, store) = jobs(&fake);
    let specs = desired_jobs(&manifest).expect("desired jobs");
    let sweep = specs
        .iter()
        .find(|s| s.name == "rotation-sweep")
        .expect("the rotation sweep");
    store
        .update(sweep, &["schedule", "time_zone"])
        .await
        .expect("update");
    store
        .update(sweep, &["topic", "attributes", "data"])
        .await
        .expect("update");
    let updates = fake.updates.lock().expect("lock").clone();
    assert_eq!(updates.len(), 2);
    let masks: Vec<Vec<String>> = updates
        .iter()
        .map(|u| u.update_mask.clone().expect("a mask").paths)
        .collect();
    assert_eq!(
        masks,
        [
            vec!["schedule".to_owned(), "time_zone".to_owned()],
            vec!["pubsub_target".to_owned()]
        ]
    );
    for update in &updates {
        assert_job(
            update.job.as_ref().expect("a job"),
            "rotation-sweep",
            "0 2 * * *",
            "rotation-due",
            "dev.groundskeeper.rotation.due.v1",
        );
    }
}

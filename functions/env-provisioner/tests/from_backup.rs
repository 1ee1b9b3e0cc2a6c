//! `from_backup`: a new environment starts from another environment's backup. The
//! provisioner asks backup-runner for the restore once the database exists, exactly once per
//! environment whatever the crashes and redeliveries, and never lets prod data into it.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod support;

use env_provisioner::{fault, ProvisionError};
use events::names::EnvName;
use serde_json::{json, Value};
use shared::{Classify, Disposition, Outcome};
use support::{Stack, REQUESTED};

const AT: &str = "2026-11-26T02:00:00Z";

/// backup-runner's topic, from the service registry.
fn backup_topic() -> &'static str {
    events::platform::service("backup-runner").unwrap().topics[0]
}

fn preview(name: &str, from: &str) -> Value {
    json!({ "name": name, "owner": "ci@example.com", "tier": "ephemeral", "from_backup": from })
}

/// The restore requests published so far, as `(ce-id, ce-type, payload)`.
fn restores(stack: &Stack) -> Vec<(String, String, Value)> {
    stack
        .published
        .messages_to(backup_topic())
        .into_iter()
        .map(|m| {
            let payload = serde_json::from_slice(&m.data).unwrap();
            (
                m.attributes["ce-id"].clone(),
                m.attributes["ce-type"].clone(),
                payload,
            )
        })
        .collect()
}

async fn stack_with_staging() -> Stack {
    let stack = Stack::start(&[("MAX_ENVIRONMENTS_PER_OWNER", "100")]).await;
    let staging = json!({ "name": "staging", "owner": "ops@example.com", "tier": "staging" });
    stack.deliver("s-1", REQUESTED, staging).await.unwrap();
    stack
}

#[tokio::test]
async fn a_preview_from_staging_asks_backup_runner_once_and_becomes_ready() {
    let stack = stack_with_staging().await;
    let body = preview("preview", &format!("staging@{AT}"));
    assert_eq!(
        stack.deliver("p-1", REQUESTED, body.clone()).await.unwrap(),
        Outcome::Done
    );
    // A redelivery of the finished request publishes nothing more.
    assert_eq!(
        stack.deliver("p-1", REQUESTED, body).await.unwrap(),
        Outcome::Done
    );

    let expected = json!({ "environment": "staging", "at": AT, "into": "env_preview", "into_environment": "preview" });
    assert_eq!(
        restores(&stack),
        [(
            "p-1/restore".to_owned(),
            events::types::BACKUP_RESTORE_REQUESTED.to_owned(),
            expected
        )]
    );
    // Asked for before the environment is announced ready.
    let order: Vec<String> = stack
        .published
        .messages()
        .into_iter()
        .map(|(topic, _)| topic)
        .collect();
    assert_eq!(order.iter().filter(|t| *t == backup_topic()).count(), 1);
    let ready_at = stack
        .emitted()
        .iter()
        .position(|(ty, d)| ty.ends_with("ready.v1") && d["name"] == "preview");
    let restore_at = order.iter().position(|t| t == backup_topic());
    assert!(restore_at < ready_at && ready_at.is_some(), "{order:?}");
    let row = stack.footprint("preview").await["row"].clone();
    assert!(
        row.starts_with("ready:") && row.contains(r#""restore": "created""#),
        "{row}"
    );
    let inventory = |name: &str| {
        let name: EnvName = name.parse().unwrap();
        let pool = stack.control.clone();
        async move {
            env_provisioner::inventory::get(&pool, &name)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let expected = format!("staging@{AT}");
    assert_eq!(inventory("preview").await.restored_from, Some(expected));
    assert_eq!(inventory("staging").await.restored_from, None);
    // Without from_backup the step is skipped: staging itself asked for no restore.
    assert!(stack.footprint("staging").await["row"].contains(r#""restore": "skipped""#));
}

#[tokio::test]
async fn a_crash_around_the_restore_request_never_makes_a_different_one() {
    let stack = stack_with_staging().await;
    for (i, (point, published)) in [
        ("restore:before", 1),
        ("restore:after", 2),
        ("ready:before", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("crash{i}");
        fault::arm(&name.parse::<EnvName>().unwrap(), point);
        let body = preview(&name, "staging");
        let err = stack
            .deliver(&format!("{name}-1"), REQUESTED, body.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ProvisionError::Injected(ref p) if p == point),
            "{point}: {err}"
        );
        // The redelivery comes as a new delivery id: it resumes the first one's provisioning.
        let done = stack
            .deliver(&format!("{name}-2"), REQUESTED, body)
            .await
            .unwrap();
        assert_eq!(done, Outcome::Done, "{point}");

        let mine: Vec<_> = restores(&stack)
            .into_iter()
            .filter(|(_, _, data)| data["into_environment"] == name.as_str())
            .collect();
        // Published at least once, re-published only after a crash that lost the record of
        // it, and then the very same request (backup-runner keys restores on `into`).
        assert_eq!(mine.len(), published, "{point}: {mine:?}");
        let expected = json!({ "environment": "staging", "into": format!("env_{name}"), "into_environment": name });
        for (id, _, data) in &mine {
            assert_eq!(id, &format!("{name}-1/restore"), "{point}");
            assert_eq!(data, &expected, "{point}");
        }
        assert!(
            stack.footprint(&name).await["row"].starts_with("ready:"),
            "{point}"
        );
    }
}

#[tokio::test]
async fn a_prod_source_or_a_bad_from_backup_is_refused_before_anything_is_created() {
    let stack = Stack::start(&[]).await;
    // A prod environment on record (the provisioner never creates one; it may still know one).
    sqlx::query(
        "INSERT INTO control.environments (name, spec, spec_hash, owner, tier, labels, status, \
           resources, outputs, request_id) \
         VALUES ('shop', '{}', 'x', 'ops@example.com', 'prod', '{}', 'ready', '{}', '{}', 'r')",
    )
    .execute(&stack.control)
    .await
    .unwrap();
    let reject = |r: Result<Outcome, ProvisionError>| {
        let err = r.unwrap_err();
        assert_eq!(err.disposition(), Disposition::Reject, "{err}");
        err.to_string()
    };
    let prod = reject(
        stack
            .deliver("x-1", REQUESTED, preview("leak", &format!("shop@{AT}")))
            .await,
    );
    assert!(
        prod.contains("from_backup: shop is a prod environment"),
        "{prod}"
    );
    for (i, bad) in ["Shop", "shop@yesterday", "mine", ""]
        .into_iter()
        .enumerate()
    {
        let reason = reject(
            stack
                .deliver(&format!("b-{i}"), REQUESTED, preview("mine", bad))
                .await,
        );
        assert!(reason.contains("from_backup: "), "{bad}: {reason}");
    }
    for name in ["leak", "mine"] {
        let footprint = stack.footprint(name).await;
        assert!(
            footprint.values().all(String::is_empty),
            "{name}: {footprint:?}"
        );
    }
    assert!(restores(&stack).is_empty());
    let decision =
        env_provisioner::inventory::decision(&stack.control, &"leak".parse().unwrap(), "x-1")
            .await
            .unwrap();
    assert!(
        matches!(decision, Some(env_provisioner::inventory::Decision::Refused(r)) if r.contains("prod"))
    );
}

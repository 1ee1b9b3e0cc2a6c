//! Crash at every step boundary, then redeliver: the rotation completes, `current`
//! authenticates at every instant, and a new version is promoted only after it was tested.
#![allow(clippy::unwrap_used)]

mod support;

use events::names::{EnvName, LoginSlot};
use secret_rotator::{fault, RotateError, RotationStep};
use shared::backends::databases::DatabaseAdmin;
use shared::backends::secrets::SecretStore;
use shared::backends::secrets::VersionState;
use support::*;

#[tokio::test]
async fn a_crash_at_any_step_boundary_is_resumed_by_the_redelivery() {
    let stack = Stack::start(FAST).await;
    for point in fault::POINTS {
        let secret = stack.provision(&env_name("crash")).await;
        let before = stack.current(&secret).await;
        fault::arm(secret.as_str(), point);

        let err = stack.request("c1", &secret).await.unwrap_err();
        assert!(
            matches!(&err, RotateError::Injected(p) if p == point),
            "{point}: {err}"
        );

        // Crashed: whatever `current` is, it logs in.
        login(&stack.current(&secret).await)
            .await
            .unwrap_or_else(|e| panic!("{point}: {e}"));
        let promoted_early = stack.aliases(&secret).await.get("current") != Some(&1);
        assert_eq!(
            promoted_early,
            point == "finish:moved" || point == "finish:after",
            "{point}"
        );

        // The redelivery (same event) finishes the job.
        stack.rotate(&secret, "c1").await;
        let after = stack.current(&secret).await;
        login(&after)
            .await
            .unwrap_or_else(|e| panic!("{point}: {e}"));
        assert!(after.user.as_str().ends_with("_b"), "{point}");
        assert_eq!(
            stack.aliases(&secret).await.get("previous"),
            Some(&1),
            "{point}"
        );
        let info = stack.info(&secret).await;
        let enabled: Vec<u64> = info
            .versions
            .iter()
            .filter(|v| v.state == VersionState::Enabled)
            .map(|v| v.version)
            .collect();
        assert_eq!(
            enabled,
            vec![1, info.alias("current").unwrap()],
            "{point}: orphans are disabled"
        );
        // One new version, whatever the point: the one a crash left unrecorded at
        // `create:added` is adopted, not replaced by a second one.
        assert_eq!(info.versions.len(), 2, "{point}: one new version");
        assert_eq!(info.alias("current"), Some(2), "{point}");
        assert_eq!(
            stack
                .emitted_of(ROTATED)
                .iter()
                .filter(|e| e["secret"] == secret.as_str())
                .count(),
            if point == "finish:after" { 2 } else { 1 },
            "{point}: published at least once"
        );
        login(&before).await.unwrap();
    }
}

#[tokio::test]
async fn a_pending_version_that_stopped_working_is_never_promoted() {
    let stack = Stack::start(FAST).await;
    let name = env_name("untested");
    let secret = stack.provision(&name).await;
    fault::arm(secret.as_str(), "test:before");
    stack.request("u1", &secret).await.unwrap_err();
    // While the rotation is down, something changes the target role's password again.
    let env: EnvName = name.parse().unwrap();
    stack
        .admin
        .set_password(
            &env.login_role(LoginSlot::B),
            &"not-the-pending-one".to_string().into(),
        )
        .await
        .unwrap();

    let err = stack.request("u1", &secret).await.unwrap_err();

    assert!(
        matches!(
            err,
            RotateError::Failed {
                step: RotationStep::Test,
                ..
            }
        ),
        "{err}"
    );
    let info = stack.info(&secret).await;
    assert_eq!(info.alias("current"), Some(1));
    assert_eq!(info.alias("pending"), None);
    assert_eq!(info.version_state(2), Some(VersionState::Disabled));
    login(&stack.current(&secret).await).await.unwrap();
    assert_eq!(stack.emitted_of(FAILED)[0]["step"], "test");
    assert!(stack.emitted_of(ROTATED).is_empty());
}

#[tokio::test]
async fn a_failed_single_user_rotation_after_set_leaves_a_current_that_logs_in() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision_single_user(&env_name("abandon")).await;
    let before = stack.current(&secret).await;
    // Crash after `set`: the role already has the pending password.
    fault::arm(secret.as_str(), "finish:before");
    stack.request("a1", &secret).await.unwrap_err();
    // Meanwhile someone re-adds the old credential and points `current` at it, so the
    // finish step cannot promote and the rotation fails for good.
    let v = stack
        .store
        .add_version(secret.as_str(), &before.to_payload())
        .await
        .unwrap();
    let info = stack.info(&secret).await;
    let mut aliases = info.aliases.clone();
    aliases.insert("current".into(), v);
    stack
        .store
        .update_aliases(secret.as_str(), &aliases, &info.etag)
        .await
        .unwrap();

    let err = stack.request("a1", &secret).await.unwrap_err();

    assert!(
        matches!(
            err,
            RotateError::Failed {
                step: RotationStep::Finish,
                ..
            }
        ),
        "{err}"
    );
    let info = stack.info(&secret).await;
    assert_eq!(info.alias("current"), Some(v));
    assert_eq!(info.version_state(2), Some(VersionState::Disabled));
    login(&stack.current(&secret).await)
        .await
        .expect("`current` logs in after the rotation was abandoned");
}

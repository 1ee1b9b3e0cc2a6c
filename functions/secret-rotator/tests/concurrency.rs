//! Single flight, through the runtime's dispatch path (ledger, timeout, dead-letter): two
//! rotations of one secret at once → one proceeds, the other is retried; 20 duplicate
//! deliveries → one rotation; as many concurrent rotations of different secrets as the
//! control pool has connections (and more) all complete; a rotation asked for too soon is
//! rejected at once, with the reason.
#![allow(clippy::unwrap_used)]

mod support;

use futures::future::join_all;
use secret_rotator::{RotateError, TooSoon};
use shared::{Decision, RejectKind};
use support::*;

#[tokio::test]
async fn two_rotations_at_once_one_proceeds_the_other_is_retried() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("twice")).await;
    let request = serde_json::json!({ "secret": secret });
    let dispatcher = stack.dispatcher(stack.config.clone());

    let (first, second) = tokio::join!(
        dispatcher.dispatch_raw(raw("one", REQUESTED, request.clone())),
        dispatcher.dispatch_raw(raw("two", REQUESTED, request.clone()))
    );

    let results = [first, second];
    let done = results.iter().filter(|r| **r == Decision::Done).count();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Decision::Retry { quiet: true, reason } if reason.contains("another delivery")))
        .count();
    assert_eq!((done, busy), (1, 1), "{results:?}");
    let info = stack.info(&secret).await;
    assert_eq!(info.versions.len(), 2, "exactly one new version");
    login(&stack.current(&secret).await).await.unwrap();
}

#[tokio::test]
async fn twenty_duplicate_deliveries_rotate_once() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("dupes")).await;
    let request = raw(
        "the-same-event",
        REQUESTED,
        serde_json::json!({ "secret": secret }),
    );

    let settled = join_all(
        (0..20).map(|_| stack.dispatch_until_settled(stack.config.clone(), request.clone(), 500)),
    )
    .await;

    for decisions in &settled {
        let last = decisions.last().unwrap();
        assert!(
            matches!(last, Decision::Done | Decision::Duplicate),
            "{decisions:?}"
        );
    }
    let info = stack.info(&secret).await;
    assert_eq!(info.versions.len(), 2, "one rotation: {:?}", info.versions);
    assert_eq!(info.alias("current"), Some(2));
    assert_eq!(stack.emitted_of(ROTATED).len(), 1);
    login(&stack.current(&secret).await).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_concurrent_rotations_than_control_connections_all_complete() {
    // The control pool has 8 connections (built as production builds it); each rotation
    // holds its secret's lock for its whole run and needs the pool for its work.
    let stack = Stack::start(FAST).await;
    let secrets = join_all((0..10).map(|i| stack.provision_at(i))).await;
    let dispatcher = stack.dispatcher(stack.config.clone());

    let decisions = join_all(secrets.iter().enumerate().map(|(i, secret)| {
        let request = raw(
            &format!("many-{i}"),
            REQUESTED,
            serde_json::json!({ "secret": secret }),
        );
        dispatcher.dispatch_raw(request)
    }))
    .await;

    assert!(
        decisions.iter().all(|d| *d == Decision::Done),
        "every rotation completed at its first delivery: {decisions:?}"
    );
    for secret in &secrets {
        assert_eq!(stack.aliases(secret).await.get("current"), Some(&2));
        login(&stack.current(secret).await).await.unwrap();
    }
}

#[tokio::test]
async fn a_second_rotation_too_soon_after_the_first_is_rejected_with_the_reason() {
    let stack = Stack::start(&[("MIN_ROTATION_INTERVAL_MS", "60000")]).await;
    let secret = stack.provision(&env_name("soon")).await;
    let request = serde_json::json!({ "secret": secret });
    stack
        .deliver("first", REQUESTED, request.clone())
        .await
        .unwrap();

    let err = stack
        .deliver("second", REQUESTED, request.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, RotateError::Other(TooSoon { .. })), "{err}");
    assert_eq!(stack.aliases(&secret).await.get("current"), Some(&2));

    // Through the runtime: not retried until Pub/Sub's attempts run out with no reason, but
    // dead-lettered at once, saying why and when to ask again.
    let decisions = stack
        .dispatch_until_settled(stack.config.clone(), raw("third", REQUESTED, request), 5)
        .await;
    assert!(
        matches!(
            decisions.as_slice(),
            [Decision::Rejected { kind: RejectKind::Handler, reason }]
                if reason.contains("MIN_ROTATION_INTERVAL_MS") && reason.contains("ask again after")
        ),
        "{decisions:?}"
    );
    let parked = stack.published.messages_to(DEAD_LETTERS);
    assert_eq!(parked.len(), 1);
    assert_eq!(stack.aliases(&secret).await.get("current"), Some(&2));
}

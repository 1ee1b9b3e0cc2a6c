//! Single flight: two rotations of one secret at once → one proceeds, the other is retried;
//! 20 duplicate deliveries → one rotation.
#![allow(clippy::unwrap_used)]

mod support;

use futures::future::join_all;
use secret_rotator::RotateError;
use support::*;

#[tokio::test]
async fn two_rotations_at_once_one_proceeds_the_other_is_retried() {
    let stack = Stack::start(FAST).await;
    let secret = stack.provision(&env_name("twice")).await;
    let request = serde_json::json!({ "secret": secret });

    let (first, second) = tokio::join!(
        stack.deliver("one", REQUESTED, request.clone()),
        stack.deliver("two", REQUESTED, request.clone())
    );

    let results = [first, second];
    let done = results.iter().filter(|r| r.is_ok()).count();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(RotateError::Busy(_))))
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

    join_all((0..20).map(|_| stack.rotate(&secret, "the-same-event"))).await;

    let info = stack.info(&secret).await;
    assert_eq!(info.versions.len(), 2, "one rotation: {:?}", info.versions);
    assert_eq!(info.alias("current"), Some(2));
    assert_eq!(stack.emitted_of(ROTATED).len(), 1);
    login(&stack.current(&secret).await).await.unwrap();
}

#[tokio::test]
async fn a_second_rotation_too_soon_after_the_first_waits() {
    let stack = Stack::start(&[("MIN_ROTATION_INTERVAL_MS", "60000")]).await;
    let secret = stack.provision(&env_name("soon")).await;
    let request = serde_json::json!({ "secret": secret });
    stack
        .deliver("first", REQUESTED, request.clone())
        .await
        .unwrap();

    let err = stack
        .deliver("second", REQUESTED, request)
        .await
        .unwrap_err();

    assert!(matches!(err, RotateError::TooSoon { .. }), "{err}");
    assert_eq!(stack.aliases(&secret).await.get("current"), Some(&2));
}

//! A version someone else added to a credentials secret — any principal that may add
//! versions, with the next login role's name and the server's address, which are no secret —
//! is never adopted as the rotation's new credential: the rotation disables it and sets a
//! password of its own making, so adding a version never chooses a database password.
#![allow(clippy::unwrap_used)]

mod support;

use events::names::{EnvName, LoginSlot};
use secrecy::{ExposeSecret as _, SecretString};
use shared::backends::secrets::{SecretStore, VersionState};
use support::*;

#[tokio::test]
async fn a_version_planted_before_a_rotation_is_disabled_and_never_becomes_current() {
    let stack = Stack::start(FAST).await;
    let name = env_name("planted");
    let secret = stack.provision(&name).await;
    let env: EnvName = name.parse().unwrap();
    let before = stack.current(&secret).await;
    // What the next rotation would add (login role B, the same server and database), with a
    // password of the planter's choosing.
    let chosen = SecretString::from("chosen-by-someone-else-0123456789".to_owned());
    let planted = before.with(env.login_role(LoginSlot::B), chosen);
    let version = stack
        .store
        .add_version(secret.as_str(), &planted.to_payload())
        .await
        .unwrap();

    stack.rotate(&secret, "after-the-plant").await;

    let after = stack.current(&secret).await;
    assert_eq!(after.user, env.login_role(LoginSlot::B), "rotated to B");
    assert_ne!(
        after.password.expose_secret(),
        "chosen-by-someone-else-0123456789",
        "the planted password became current"
    );
    let state = stack
        .info(&secret)
        .await
        .versions
        .iter()
        .find(|v| v.version == version)
        .map(|v| v.state);
    assert_eq!(state, Some(VersionState::Disabled), "the planted version");
    login(&after).await.unwrap();
}

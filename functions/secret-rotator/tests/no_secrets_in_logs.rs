//! A capture of every log line written during rotations (successful, crashed, failed)
//! contains no password, old or new. (One test in this file: the subscriber is global.)
#![allow(clippy::unwrap_used)]

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use events::names::{EnvName, LoginSlot};
use secrecy::ExposeSecret;
use secret_rotator::fault;
use shared::backends::{databases::DatabaseAdmin, secrets::SecretStore};
use support::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn rotation_logs_contain_no_password() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        shared::telemetry::subscriber("p", "secret-rotator", true, move || writer.clone());
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let stack = Stack::start(FAST).await;
    let name = env_name("logs");
    let secret = stack.provision(&name).await;
    let mut passwords = vec![stack.current(&secret).await.password];
    for round in 0..3 {
        fault::arm(secret.as_str(), fault::POINTS[round * 4 + 1]);
        stack
            .deliver(
                &format!("l{round}"),
                REQUESTED,
                serde_json::json!({ "secret": secret }),
            )
            .await
            .unwrap_err();
        stack.rotate(&secret, &format!("l{round}")).await;
        passwords.push(stack.current(&secret).await.password);
    }
    // A failure, whose reason is logged: the target role's password changed under a test.
    fault::arm(secret.as_str(), "test:before");
    stack.request("l9", &secret).await.unwrap_err();
    let env: EnvName = name.parse().unwrap();
    stack
        .admin
        .set_password(&env.login_role(LoginSlot::A), &"x".repeat(40).into())
        .await
        .unwrap();
    stack.request("l9", &secret).await.unwrap_err();
    let info = stack.info(&secret).await;
    for v in &info.versions {
        if let Ok(payload) = stack
            .store
            .access(secret.as_str(), &v.version.to_string())
            .await
        {
            passwords.push(
                secret_rotator::Credential::parse(&payload)
                    .unwrap()
                    .password,
            );
        }
    }

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("secret rotated"),
        "the capture saw the rotations:\n{logs}"
    );
    assert!(logs.contains("rotation failed"), "and the failure:\n{logs}");
    assert!(passwords.len() >= 4);
    for password in &passwords {
        assert!(
            !logs.contains(password.expose_secret()),
            "a password leaked into the logs"
        );
    }
}

//! The push OIDC token check (`shared::auth::PushAuth::verify`): the `Authorization`
//! header, the JWT header and its algorithm and key id, the signature, then the claims.
//! Input: the header's value (`Bearer <token>`).
//!
//! Keys come from a JWKS served on loopback by this process (one RSA key, kid `fuzz-key`),
//! never from Google. The seeds in `fuzz/seeds/oidc_token` were signed with that key's
//! private half, which is not kept: they reach the claim checks, mutations of them the
//! signature check.
#![no_main]
use std::io::{Read, Write};
use std::sync::OnceLock;

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use shared::auth::{AuthConfig, PushAuth};

const JWKS: &str = r#"{"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid":"fuzz-key","e":"AQAB","n":"n7YdkRmv-Gvj4_XdOwDQGxz34sC5VBN7ffSy4kZXXpTvPee36DECLcQLUFjbeyfgrlqgS3NcNGs_oz7vdl7xSeEdaB2JbD5DCqlDgTyHD6YAj_joiuWrhqX3b1Yo2c8otTnHh6NXfyZY-fYMIpbRvCyZ_CACjHfJLmGqEh9DI7IwO_iRq-1G0Ta-t9XSx1T-cNEh1lEn7FcpElqjHnVtVFbAkhpvsrB4v5u74EK_NA6WNGzPe4Ug96VEpj__SnW71e6w7oIgzjaMq0PjgM5CdvvYyk6DSzXCFkLDvHZvE9D2K99MUJ1sfkCD4_ttDObflmAI8NyH7kSgO0aBS2c3aQ"}]}"#;

struct Verifier {
    runtime: tokio::runtime::Runtime,
    auth: PushAuth,
}

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}/certs", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     cache-control: public, max-age=86400\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{JWKS}",
                    JWKS.len()
                );
            }
        });
        let mut config = AuthConfig::new("https://env-provisioner-abc-ew.a.run.app");
        config.allowed_emails = vec!["push@acme-dev.iam.gserviceaccount.com".to_owned()];
        config.jwks_url = url;
        Verifier {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            auth: PushAuth::new(config),
        }
    })
}

/// A token signed with the key above, valid until 2100: proves the key server is wired, so
/// the fuzzer is not just exercising "unknown key" for every input.
const VALID: &str = include_str!("../seeds/oidc_token/valid");

fuzz_target!(
    init: {
        let verifier = verifier();
        let header = HeaderValue::from_static(VALID);
        let caller = verifier.runtime.block_on(verifier.auth.verify(Some(&header)));
        assert!(caller.is_ok(), "the valid seed token is refused: {caller:?}");
    },
    |data: &[u8]| {
    let verifier = verifier();
    let header = HeaderValue::from_bytes(data).ok();
    let _ = verifier
        .runtime
        .block_on(verifier.auth.verify(header.as_ref()));
}
);

//! env-provisioner served by the runtime's own router on a loopback port, with push
//! authentication against a JWKS served here, the idempotency ledger on the control database,
//! and everything a delivery could touch counted before and after it.

use std::collections::BTreeMap;
use std::time::Duration;

use shared::auth::{AuthConfig, PushAuth};

use crate::support::Stack;

/// The dead-letter topic the dispatcher forwards rejections to.
pub use crate::support::DEAD_LETTER;
/// The audience and caller the seed tokens in `fuzz/seeds/oidc_token` were signed for.
const AUDIENCE: &str = "https://env-provisioner-abc-ew.a.run.app";
const CALLER: &str = "push@acme-dev.iam.gserviceaccount.com";
/// The public half of the key those tokens were signed with (its private half was not kept;
/// the same JWKS as `fuzz/fuzz_targets/oidc_token.rs`). The tokens are valid until 2100.
const JWKS: &str = r#"{"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid":"fuzz-key","e":"AQAB","n":"n7YdkRmv-Gvj4_XdOwDQGxz34sC5VBN7ffSy4kZXXpTvPee36DECLcQLUFjbeyfgrlqgS3NcNGs_oz7vdl7xSeEdaB2JbD5DCqlDgTyHD6YAj_joiuWrhqX3b1Yo2c8otTnHh6NXfyZY-fYMIpbRvCyZ_CACjHfJLmGqEh9DI7IwO_iRq-1G0Ta-t9XSx1T-cNEh1lEn7FcpElqjHnVtVFbAkhpvsrB4v5u74EK_NA6WNGzPe4Ug96VEpj__SnW71e6w7oIgzjaMq0PjgM5CdvvYyk6DSzXCFkLDvHZvE9D2K99MUJ1sfkCD4_ttDObflmAI8NyH7kSgO0aBS2c3aQ"}]}"#;

/// The service as Cloud Run runs it, minus the process: same router, dispatcher and ledger.
pub struct App {
    pub stack: Stack,
    pub url: String,
}

impl App {
    pub async fn start() -> App {
        let stack = Stack::start(&[]).await;
        let auth = PushAuth::new(AuthConfig {
            allowed_emails: vec![CALLER.to_owned()],
            jwks_url: serve(
                axum::Router::new().route("/certs", axum::routing::get(jwks)),
                "/certs",
            )
            .await,
            ..AuthConfig::new(AUDIENCE)
        });
        let dispatcher = stack.dispatcher(Duration::from_secs(30));
        let router = shared::server::router(dispatcher, Some(auth), "env-provisioner");
        let url = serve(router, "/").await;
        App { stack, url }
    }

    /// Posts one delivery; returns the HTTP status.
    ///
    /// A body over the limit is refused with 413 once 15 MiB are read and the connection is
    /// closed, so a client still writing the rest can meet the close (a broken pipe) before
    /// it reads the answer. That refused write has no effect, so it is sent again until the
    /// answer is read; a service that does not answer still fails after a few tries.
    pub async fn post(&self, headers: &[(String, String)], body: Vec<u8>) -> u16 {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.send(headers, body.clone()).await {
                Ok(status) => return status,
                Err(e) if e.is_request() && tries < 10 => continue,
                Err(e) => panic!("the service answers: {e:?}"),
            }
        }
    }

    async fn send(&self, headers: &[(String, String)], body: Vec<u8>) -> reqwest::Result<u16> {
        let mut request = reqwest::Client::new().post(&self.url).body(body);
        for (name, value) in headers {
            // From bytes: a row may send a header that is not visible ASCII.
            let value = reqwest::header::HeaderValue::from_bytes(value.as_bytes()).unwrap();
            request = request.header(name, value);
        }
        Ok(request.send().await?.status().as_u16())
    }

    /// Everything a delivery could change, counted: rows of every control table, databases
    /// and roles on the cluster, entries under the object store, messages published per topic.
    pub async fn census(&self) -> BTreeMap<String, i64> {
        let mut counts = BTreeMap::new();
        for table in self.stack.tables("control").await {
            let sql = format!("SELECT count(*) FROM control.{table}");
            let n: i64 = sqlx::query_scalar(&sql)
                .fetch_one(&self.stack.control)
                .await
                .expect("count rows");
            counts.insert(format!("row in control.{table}"), n);
        }
        for catalog in ["pg_database", "pg_roles"] {
            let sql = format!("SELECT count(*) FROM {catalog}");
            let pool = self.stack.admin.pool();
            let n: i64 = sqlx::query_scalar(&sql)
                .fetch_one(pool)
                .await
                .expect("count");
            counts.insert(format!("entry in {catalog}"), n);
        }
        counts.insert("object".into(), entries(self.stack.objects_dir()));
        for (topic, message) in self.stack.published.messages() {
            let ty = message.attributes.get("ce-type").cloned();
            let what = if topic == DEAD_LETTER {
                "dead letter".to_owned()
            } else {
                format!("event {}", ty.unwrap_or(topic))
            };
            *counts.entry(what).or_default() += 1;
        }
        counts
    }
}

/// Files and directories under `dir`, recursively.
fn entries(dir: &std::path::Path) -> i64 {
    let Ok(read) = std::fs::read_dir(dir) else {
        return 0;
    };
    read.flatten()
        .map(|e| {
            1 + if e.path().is_dir() {
                entries(&e.path())
            } else {
                0
            }
        })
        .sum()
}

async fn jwks() -> impl axum::response::IntoResponse {
    let headers = [
        ("content-type", "application/json"),
        ("cache-control", "public, max-age=86400"),
    ];
    (headers, JWKS)
}

/// Serves `router` on a loopback port for the rest of the test; returns `http://ADDR{path}`.
async fn serve(router: axum::Router, path: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}{path}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

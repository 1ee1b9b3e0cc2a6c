//! Push authentication against keys generated here and a JWKS served on loopback.
//!
//! Each test starts its own key server (counting requests), signs tokens the way Google does
//! (RS256 with a `kid`) and checks what `PushAuth::verify` concludes — and how often it went
//! to the key server, since caching and rate limiting are part of the contract.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{HeaderValue, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use shared::auth::{AuthConfig, AuthError, PushAuth, VerifiedCaller};

mod support;

const AUDIENCE: &str = "https://env-provisioner-abc123-ew.a.run.app/";
const EMAIL: &str = "push-invoker@demo-project.iam.gserviceaccount.com";
const SUBJECT: &str = "113774264463038321964";

/// An RSA signing key as Google holds it: private half to sign, public half as a JWK.
struct TestKey {
    encoding: EncodingKey,
    n: String,
    e: String,
}

impl TestKey {
    fn generate() -> TestKey {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA keygen");
        let der = private.to_pkcs1_der().expect("PKCS#1 encoding");
        TestKey {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        }
    }

    fn jwk(&self, kid: &str) -> Value {
        json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": self.n, "e": self.e})
    }

    fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }
}

/// Keygen is slow in debug builds; tests in one process share the two keys they need.
fn google_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

fn other_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(TestKey::generate)
}

/// Claims of a token Pub/Sub would attach to a push, valid for an hour.
fn push_claims() -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": SUBJECT,
        "sub": SUBJECT,
        "email": EMAIL,
        "email_verified": true,
        "iat": now,
        "exp": now + 3600,
    })
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("header value")
}

/// What the key server answers; tests change it while it runs.
struct Served {
    status: StatusCode,
    keys: Vec<Value>,
    cache_control: Option<String>,
    delay: Duration,
}

/// A JWKS endpoint on loopback that counts its requests.
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
    served: Arc<Mutex<Served>>,
    task: tokio::task::JoinHandle<()>,
}

type ServerState = (Arc<AtomicUsize>, Arc<Mutex<Served>>);

async fn serve_jwks(State((hits, served)): State<ServerState>) -> Response {
    hits.fetch_add(1, Ordering::SeqCst);
    let (status, body, cache_control, delay) = {
        let served = served.lock().expect("served lock");
        let body = json!({"keys": served.keys});
        (
            served.status,
            body,
            served.cache_control.clone(),
            served.delay,
        )
    };
    tokio::time::sleep(delay).await;
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(value) = cache_control {
        let value = HeaderValue::from_str(&value).expect("cache-control value");
        response
            .headers_mut()
            .insert(http::header::CACHE_CONTROL, value);
    }
    response
}

impl JwksServer {
    /// Serves `google_key()` as kid "k1", cacheable for an hour like Google's endpoint.
    async fn start() -> JwksServer {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(Mutex::new(Served {
            status: StatusCode::OK,
            keys: vec![google_key().jwk("k1")],
            cache_control: Some("public, max-age=3600, must-revalidate, no-transform".into()),
            delay: Duration::ZERO,
        }));
        let app = axum::Router::new()
            .route("/oauth2/v3/certs", axum::routing::get(serve_jwks))
            .with_state((Arc::clone(&hits), Arc::clone(&served)));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("JWKS server");
        });
        JwksServer {
            url: format!("http://{addr}/oauth2/v3/certs"),
            hits,
            served,
            task,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn change(&self, edit: impl FnOnce(&mut Served)) {
        edit(&mut self.served.lock().expect("served lock"));
    }

    fn auth(&self) -> PushAuth {
        self.auth_allowing(vec![EMAIL.to_owned()])
    }

    fn auth_allowing(&self, allowed_emails: Vec<String>) -> PushAuth {
        PushAuth::new(AuthConfig {
            allowed_emails,
            jwks_url: self.url.clone(),
            ..AuthConfig::new(AUDIENCE)
        })
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn verify_token(auth: &PushAuth, token: &str) -> Result<VerifiedCaller, AuthError> {
    auth.verify(Some(&bearer(token))).await
}

fn assert_refused(result: Result<VerifiedCaller, AuthError>, expected: AuthError) {
    let error = result.expect_err("token must be refused");
    assert_eq!(error, expected);
    assert!(!error.is_retryable(), "{error} must not be retryable");
    assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_valid_push_token_yields_the_caller() {
    let server = JwksServer::start().await;
    let auth = server.auth();
    let token = google_key().sign("k1", &push_claims());
    let caller = verify_token(&auth, &token).await.expect("valid token");
    assert_eq!(
        caller,
        VerifiedCaller {
            email: EMAIL.to_owned(),
            subject: SUBJECT.to_owned()
        }
    );

    // Google uses both issuer spellings, and the scheme is case-insensitive.
    let bare_issuer = with(push_claims(), "iss", json!("accounts.google.com"));
    let token = google_key().sign("k1", &bare_issuer);
    let header = HeaderValue::from_str(&format!("bearer {token}")).expect("header");
    let caller = auth.verify(Some(&header)).await.expect("bare issuer");
    assert_eq!(caller.email, EMAIL);
}

#[tokio::test]
async fn requests_without_a_bearer_jwt_are_refused_without_fetching_keys() {
    let server = JwksServer::start().await;
    let auth = server.auth();
    assert_refused(auth.verify(None).await, AuthError::MissingHeader);
    let basic = HeaderValue::from_static("Basic dXNlcjpwYXNz");
    assert_refused(auth.verify(Some(&basic)).await, AuthError::NotBearer);
    let error = verify_token(&auth, "not-a-jwt").await.expect_err("junk");
    assert!(matches!(error, AuthError::Malformed(_)), "{error:?}");

    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &push_claims(),
        &EncodingKey::from_secret(b"guessable"),
    )
    .expect("HS256 token");
    let error = verify_token(&auth, &hs256).await.expect_err("HS256");
    assert_eq!(error, AuthError::UnsupportedAlgorithm("HS256".into()));
    assert_eq!(
        server.hits(),
        0,
        "no key fetch for tokens that cannot be Google's"
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let server = JwksServer::start().await;
    let claims = with(
        push_claims(),
        "aud",
        json!("https://someone-else.a.run.app/"),
    );
    let token = google_key().sign("k1", &claims);
    let expected = AuthError::WrongAudience {
        expected: AUDIENCE.to_owned(),
    };
    assert_refused(verify_token(&server.auth(), &token).await, expected);
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let server = JwksServer::start().await;
    let claims = with(push_claims(), "iss", json!("https://evil.example.com"));
    let token = google_key().sign("k1", &claims);
    assert_refused(
        verify_token(&server.auth(), &token).await,
        AuthError::WrongIssuer,
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_clock_skew_leeway() {
    let server = JwksServer::start().await;
    let auth = server.auth();
    let now = jsonwebtoken::get_current_timestamp();
    let long_gone = google_key().sign("k1", &with(push_claims(), "exp", json!(now - 120)));
    assert_refused(verify_token(&auth, &long_gone).await, AuthError::Expired);
    let just_gone = google_key().sign("k1", &with(push_claims(), "exp", json!(now - 5)));
    verify_token(&auth, &just_gone)
        .await
        .expect("5 s past expiry is within the leeway");
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_googles_kid_is_refused() {
    let server = JwksServer::start().await;
    let forged = other_key().sign("k1", &push_claims());
    assert_refused(
        verify_token(&server.auth(), &forged).await,
        AuthError::BadSignature,
    );
}

#[tokio::test]
async fn an_unverified_email_is_refused() {
    let server = JwksServer::start().await;
    let auth = server.auth();
    let unverified = with(push_claims(), "email_verified", json!(false));
    let expected = AuthError::EmailNotVerified {
        email: EMAIL.to_owned(),
    };
    let token = google_key().sign("k1", &unverified);
    assert_refused(verify_token(&auth, &token).await, expected.clone());

    let mut silent = push_claims();
    silent
        .as_object_mut()
        .expect("claims object")
        .remove("email_verified");
    let token = google_key().sign("k1", &silent);
    assert_refused(verify_token(&auth, &token).await, expected);
}

#[tokio::test]
async fn the_allowlist_admits_only_its_emails() {
    let server = JwksServer::start().await;
    let auth = server.auth_allowing(vec![
        "other@demo-project.iam.gserviceaccount.com".into(),
        EMAIL.to_uppercase(),
    ]);
    let token = google_key().sign("k1", &push_claims());
    let caller = verify_token(&auth, &token).await.expect("allowed email");
    assert_eq!(caller.email, EMAIL);

    let stranger = "intruder@evil-project.iam.gserviceaccount.com";
    let token = google_key().sign("k1", &with(push_claims(), "email", json!(stranger)));
    let expected = AuthError::EmailNotAllowed {
        email: stranger.to_owned(),
    };
    assert_refused(verify_token(&auth, &token).await, expected);
}

#[tokio::test]
async fn keys_are_fetched_once_and_cached() {
    let server = JwksServer::start().await;
    let auth = server.auth();
    assert_eq!(server.hits(), 0, "construction must not fetch");
    let token = google_key().sign("k1", &push_claims());
    for _ in 0..25 {
        verify_token(&auth, &token).await.expect("valid token");
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn concurrent_first_verifications_share_one_fetch() {
    let server = JwksServer::start().await;
    server.change(|s| s.delay = Duration::from_millis(200));
    let auth = Arc::new(server.auth());
    let token = Arc::new(google_key().sign("k1", &push_claims()));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (auth, token) = (Arc::clone(&auth), Arc::clone(&token));
            tokio::spawn(async move { verify_token(&auth, &token).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("valid token");
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn cache_control_max_age_sets_the_cache_lifetime() {
    let server = JwksServer::start().await;
    server.change(|s| s.cache_control = Some("public, max-age=1".into()));
    let auth = server.auth();
    let token = google_key().sign("k1", &push_claims());
    verify_token(&auth, &token).await.expect("valid token");
    verify_token(&auth, &token).await.expect("valid token");
    assert_eq!(server.hits(), 1, "within max-age the cache answers");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify_token(&auth, &token).await.expect("valid token");
    assert_eq!(server.hits(), 2, "after max-age the keys are fetched again");
}

#[tokio::test]
async fn an_unknown_kid_causes_one_refetch_then_is_refused() {
    let server = JwksServer::start().await;
    let auth = server.auth();
    let valid = google_key().sign("k1", &push_claims());
    verify_token(&auth, &valid).await.expect("valid token");
    assert_eq!(server.hits(), 1);

    let unknown = google_key().sign("k-unknown", &push_claims());
    let expected = AuthError::UnknownKey {
        kid: "k-unknown".into(),
    };
    assert_refused(verify_token(&auth, &unknown).await, expected.clone());
    assert_eq!(server.hits(), 2, "one refetch for the unknown kid");

    // A flood of made-up kids must not turn into a flood of requests to Google.
    for n in 0..20 {
        let junk = google_key().sign(&format!("junk-{n}"), &push_claims());
        let error = verify_token(&auth, &junk).await.expect_err("junk kid");
        assert!(matches!(error, AuthError::UnknownKey { .. }), "{error:?}");
    }
    assert_refused(verify_token(&auth, &unknown).await, expected);
    assert_eq!(server.hits(), 2, "refetches are rate-limited");
}

#[tokio::test]
async fn a_rotated_in_key_is_picked_up_by_the_refetch() {
    let server = JwksServer::start().await;
    let auth = server.auth();
    let valid = google_key().sign("k1", &push_claims());
    verify_token(&auth, &valid).await.expect("valid token");

    server.change(|s| s.keys.push(other_key().jwk("k2")));
    let rotated = other_key().sign("k2", &push_claims());
    let caller = verify_token(&auth, &rotated)
        .await
        .expect("new key accepted");
    assert_eq!(caller.email, EMAIL);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn an_unreachable_key_set_is_a_retryable_error() {
    let server = JwksServer::start().await;
    server.change(|s| s.status = StatusCode::INTERNAL_SERVER_ERROR);
    let token = google_key().sign("k1", &push_claims());
    let error = verify_token(&server.auth(), &token)
        .await
        .expect_err("no keys");
    assert!(matches!(error, AuthError::JwksUnavailable(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Nothing listening at all: same answer.
    let closed = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let url = format!("http://{}/certs", closed.local_addr().expect("addr"));
    drop(closed);
    let auth = PushAuth::new(AuthConfig {
        jwks_url: url,
        ..AuthConfig::new(AUDIENCE)
    });
    let error = verify_token(&auth, &token).await.expect_err("no server");
    assert!(matches!(error, AuthError::JwksUnavailable(_)), "{error:?}");
}

#[tokio::test]
async fn expired_keys_still_serve_while_the_key_server_is_down() {
    let server = JwksServer::start().await;
    server.change(|s| s.cache_control = Some("max-age=1".into()));
    let auth = server.auth();
    let token = google_key().sign("k1", &push_claims());
    verify_token(&auth, &token).await.expect("valid token");

    server.change(|s| s.status = StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify_token(&auth, &token)
        .await
        .expect("stale keys used during the outage");
    verify_token(&auth, &token)
        .await
        .expect("stale keys used during the outage");
    assert_eq!(
        server.hits(),
        2,
        "the failed refresh is not retried at once"
    );
}

/// Through the service itself: refused pushes get 401 and never reach the handler.
#[tokio::test]
async fn the_service_refuses_unauthenticated_pushes_before_running_the_handler() {
    use shared::backends::{publisher::RecordingPublisher, Plan};

    let jwks = JwksServer::start().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let publisher = Arc::new(RecordingPublisher::new(Plan::default()));
    let service = support::spawn(
        support::counting_handler(runs.clone()),
        support::ctx(publisher),
        support::options("dlq"),
        Some(jwks.auth()),
    )
    .await;
    let push = |authorization: Option<String>, id: &'static str| {
        let url = service.url.clone();
        async move {
            let mut request = reqwest::Client::new()
                .post(url)
                .body(support::ping("done", id));
            if let Some(value) = authorization {
                request = request.header("authorization", value);
            }
            request.send().await.expect("request").status()
        }
    };
    let token = |claims: Value, key: &TestKey| Some(format!("Bearer {}", key.sign("k1", &claims)));
    let now = jsonwebtoken::get_current_timestamp();

    assert_eq!(
        push(None, "a-1").await,
        StatusCode::UNAUTHORIZED,
        "no token"
    );
    let wrong_audience = with(push_claims(), "aud", json!("https://elsewhere.run.app/"));
    assert_eq!(
        push(token(wrong_audience, google_key()), "a-2").await,
        StatusCode::UNAUTHORIZED
    );
    let expired = with(push_claims(), "exp", json!(now - 600));
    assert_eq!(
        push(token(expired, google_key()), "a-3").await,
        StatusCode::UNAUTHORIZED
    );
    let forged = token(push_claims(), other_key());
    assert_eq!(
        push(forged, "a-4").await,
        StatusCode::UNAUTHORIZED,
        "bad signature"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "no refused push reached the handler"
    );

    let valid = token(push_claims(), google_key());
    assert_eq!(push(valid, "a-5").await, StatusCode::NO_CONTENT);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_empty_allowlist_admits_no_one() {
    let server = JwksServer::start().await;
    let token = google_key().sign("k1", &push_claims());
    // Anyone can mint a Google-signed token for our audience with their own account.
    assert_refused(
        verify_token(&server.auth_allowing(Vec::new()), &token).await,
        AuthError::EmailNotAllowed {
            email: EMAIL.to_owned(),
        },
    );
}

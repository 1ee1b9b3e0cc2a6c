//! The Secret Manager store against the official client's stub trait (Secret Manager has no
//! emulator): each test scripts the service's replies and asserts the exact requests sent.

use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::*;
use google_cloud_secretmanager_v1::{stub, Error, Result};
use secrecy::{ExposeSecret, SecretString};
use shared::backends::secrets::{
    Labels, SecretError, SecretManagerStore, SecretStore, VersionState,
};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

const SECRET: &str = "projects/acme/secrets/dev-shop-db";

/// One request the store sent.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Create(CreateSecretRequest),
    Get(GetSecretRequest),
    Update(UpdateSecretRequest),
    Delete(DeleteSecretRequest),
    List(ListSecretsRequest),
    ListVersions(ListSecretVersionsRequest),
    Add(AddSecretVersionRequest),
    GetVersion(GetSecretVersionRequest),
    Access(AccessSecretVersionRequest),
    Disable(DisableSecretVersionRequest),
    Enable(EnableSecretVersionRequest),
    Destroy(DestroySecretVersionRequest),
}

/// One scripted reply, consumed in order.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a handful per test; boxing would only add noise
enum Reply {
    Secret(Result<Secret>),
    Version(Result<SecretVersion>),
    Versions(ListSecretVersionsResponse),
    Secrets(ListSecretsResponse),
    Access(Result<AccessSecretVersionResponse>),
    Empty(Result<()>),
}

#[derive(Debug, Default)]
struct Fake {
    calls: Mutex<Vec<Call>>,
    replies: Mutex<VecDeque<Reply>>,
}

impl Fake {
    fn next(&self, call: Call) -> Reply {
        let reply = self.replies.lock().expect("replies").pop_front();
        let reply = reply.unwrap_or_else(|| panic!("unexpected call {call:?}"));
        self.calls.lock().expect("calls").push(call);
        reply
    }
}

macro_rules! reply {
    ($self:ident, $call:expr, $variant:ident) => {
        match $self.next($call) {
            Reply::$variant(r) => r.map(Response::from),
            other => panic!("scripted {other:?} for a {} call", stringify!($variant)),
        }
    };
    ($self:ident, $call:expr, $variant:ident, ok) => {
        match $self.next($call) {
            Reply::$variant(r) => Ok(Response::from(r)),
            other => panic!("scripted {other:?} for a {} call", stringify!($variant)),
        }
    };
}

impl stub::SecretManagerService for Fake {
    async fn create_secret(
        &self,
        r: CreateSecretRequest,
        _: RequestOptions,
    ) -> Result<Response<Secret>> {
        reply!(self, Call::Create(r), Secret)
    }
    async fn get_secret(&self, r: GetSecretRequest, _: RequestOptions) -> Result<Response<Secret>> {
        reply!(self, Call::Get(r), Secret)
    }
    async fn update_secret(
        &self,
        r: UpdateSecretRequest,
        _: RequestOptions,
    ) -> Result<Response<Secret>> {
        reply!(self, Call::Update(r), Secret)
    }
    async fn delete_secret(
        &self,
        r: DeleteSecretRequest,
        _: RequestOptions,
    ) -> Result<Response<()>> {
        reply!(self, Call::Delete(r), Empty)
    }
    async fn list_secrets(
        &self,
        r: ListSecretsRequest,
        _: RequestOptions,
    ) -> Result<Response<ListSecretsResponse>> {
        reply!(self, Call::List(r), Secrets, ok)
    }
    async fn list_secret_versions(
        &self,
        r: ListSecretVersionsRequest,
        _: RequestOptions,
    ) -> Result<Response<ListSecretVersionsResponse>> {
        reply!(self, Call::ListVersions(r), Versions, ok)
    }
    async fn add_secret_version(
        &self,
        r: AddSecretVersionRequest,
        _: RequestOptions,
    ) -> Result<Response<SecretVersion>> {
        reply!(self, Call::Add(r), Version)
    }
    async fn get_secret_version(
        &self,
        r: GetSecretVersionRequest,
        _: RequestOptions,
    ) -> Result<Response<SecretVersion>> {
        reply!(self, Call::GetVersion(r), Version)
    }
    async fn access_secret_version(
        &self,
        r: AccessSecretVersionRequest,
        _: RequestOptions,
    ) -> Result<Response<AccessSecretVersionResponse>> {
        reply!(self, Call::Access(r), Access)
    }
    async fn disable_secret_version(
        &self,
        r: DisableSecretVersionRequest,
        _: RequestOptions,
    ) -> Result<Response<SecretVersion>> {
        reply!(self, Call::Disable(r), Version)
    }
    async fn enable_secret_version(
        &self,
        r: EnableSecretVersionRequest,
        _: RequestOptions,
    ) -> Result<Response<SecretVersion>> {
        reply!(self, Call::Enable(r), Version)
    }
    async fn destroy_secret_version(
        &self,
        r: DestroySecretVersionRequest,
        _: RequestOptions,
    ) -> Result<Response<SecretVersion>> {
        reply!(self, Call::Destroy(r), Version)
    }
}

/// A store on a fake scripted with `replies`; returns the fake to read the calls back.
fn store(replies: Vec<Reply>) -> (SecretManagerStore, Arc<Fake>) {
    let fake = Arc::new(Fake {
        replies: Mutex::new(replies.into()),
        ..Fake::default()
    });
    let client = SecretManagerService::from_stub::<Fake>(fake.clone());
    (SecretManagerStore::new(client, "acme"), fake)
}

fn calls(fake: &Fake) -> Vec<Call> {
    assert!(
        fake.replies.lock().expect("replies").is_empty(),
        "scripted replies left unused"
    );
    fake.calls.lock().expect("calls").clone()
}

fn error(code: Code, message: &str) -> Error {
    Error::service(Status::default().set_code(code).set_message(message))
}

fn labels() -> Labels {
    [("environment", "shop"), ("managed-by", "groundskeeper")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into()
}

fn version(n: u64, state: secret_version::State) -> SecretVersion {
    SecretVersion::new()
        .set_name(format!("{SECRET}/versions/{n}"))
        .set_state(state)
        .set_create_time(
            google_cloud_wkt::Timestamp::new(1_700_000_000 + n as i64, 0).expect("valid timestamp"),
        )
}

#[tokio::test]
async fn create_secret_uses_automatic_replication_and_labels() {
    let (s, fake) = store(vec![Reply::Secret(Ok(Secret::new().set_name(SECRET)))]);
    assert!(s.create_secret("dev-shop-db", &labels()).await.unwrap());
    let expected = CreateSecretRequest::new()
        .set_parent("projects/acme")
        .set_secret_id("dev-shop-db")
        .set_secret(
            Secret::new()
                .set_replication(Replication::new().set_automatic(replication::Automatic::new()))
                .set_labels(labels()),
        );
    assert_eq!(calls(&fake), [Call::Create(expected)]);
}

#[tokio::test]
async fn create_secret_that_exists_compares_labels() {
    let existing = Secret::new().set_name(SECRET).set_labels(labels());
    let (s, fake) = store(vec![
        Reply::Secret(Err(error(Code::AlreadyExists, "exists"))),
        Reply::Secret(Ok(existing.clone())),
        Reply::Secret(Err(error(Code::AlreadyExists, "exists"))),
        Reply::Secret(Ok(existing)),
    ]);
    assert!(!s.create_secret("dev-shop-db", &labels()).await.unwrap());
    let other: Labels = [("environment".to_owned(), "cart".to_owned())].into();
    let err = s
        .create_secret("dev-shop-db", &other)
        .await
        .expect_err("other labels");
    assert!(matches!(err, SecretError::InvalidState { .. }), "{err}");
    let calls = calls(&fake);
    assert_eq!(
        calls[1],
        Call::Get(GetSecretRequest::new().set_name(SECRET))
    );
    assert_eq!(calls.len(), 4);
}

#[tokio::test]
async fn add_version_sends_the_payload_bytes_with_their_crc32c() {
    let (s, fake) = store(vec![Reply::Version(Ok(version(
        4,
        secret_version::State::Enabled,
    )))]);
    let payload = SecretString::from(r#"{"password":"s3cr3t"}"#.to_owned());
    assert_eq!(s.add_version("dev-shop-db", &payload).await.unwrap(), 4);
    let data = br#"{"password":"s3cr3t"}"#;
    let expected = AddSecretVersionRequest::new()
        .set_parent(SECRET)
        .set_payload(
            SecretPayload::new()
                .set_data(bytes::Bytes::from_static(data))
                .set_data_crc32c(i64::from(crc32c::crc32c(data))),
        );
    assert_eq!(calls(&fake), [Call::Add(expected)]);
}

#[tokio::test]
async fn access_reads_by_alias_and_checks_the_checksum() {
    let payload = |data: &'static [u8], crc: u32| {
        AccessSecretVersionResponse::new()
            .set_name(format!("{SECRET}/versions/4"))
            .set_payload(
                SecretPayload::new()
                    .set_data(bytes::Bytes::from_static(data))
                    .set_data_crc32c(i64::from(crc)),
            )
    };
    let (s, fake) = store(vec![
        Reply::Access(Ok(payload(b"pw-4", crc32c::crc32c(b"pw-4")))),
        Reply::Access(Ok(payload(b"pw-4", 12345))),
        Reply::Access(Err(error(
            Code::FailedPrecondition,
            "Secret Version is in DISABLED state",
        ))),
        Reply::Access(Err(error(Code::NotFound, "not found"))),
    ]);
    assert_eq!(
        s.access("dev-shop-db", "current")
            .await
            .unwrap()
            .expose_secret(),
        "pw-4"
    );
    let err = s
        .access("dev-shop-db", "latest")
        .await
        .expect_err("bad checksum");
    assert!(matches!(err, SecretError::Backend { .. }), "{err}");
    let err = s.access("dev-shop-db", "3").await.expect_err("disabled");
    assert!(
        matches!(&err, SecretError::InvalidState { version: Some(v), .. } if v == "3"),
        "{err}"
    );
    let err = s.access("dev-shop-db", "9").await.expect_err("missing");
    assert!(matches!(err, SecretError::NotFound { .. }), "{err}");
    let names: Vec<Call> = ["current", "latest", "3", "9"]
        .iter()
        .map(|v| {
            Call::Access(
                AccessSecretVersionRequest::new().set_name(format!("{SECRET}/versions/{v}")),
            )
        })
        .collect();
    assert_eq!(calls(&fake), names);
}

#[tokio::test]
async fn update_aliases_sends_the_map_the_mask_and_the_etag() {
    let (s, fake) = store(vec![
        Reply::Secret(Ok(Secret::new().set_name(SECRET).set_etag("\"e2\""))),
        Reply::Secret(Err(error(Code::Aborted, "etag mismatch"))),
        Reply::Secret(Err(error(Code::FailedPrecondition, "etag mismatch"))),
        Reply::Secret(Ok(Secret::new().set_name(SECRET).set_etag("\"e3\""))),
    ]);
    let aliases: BTreeMap<String, u64> =
        [("current".to_owned(), 5), ("previous".to_owned(), 4)].into();
    assert_eq!(
        s.update_aliases("dev-shop-db", &aliases, "\"e1\"")
            .await
            .unwrap(),
        "\"e2\""
    );
    let err = s
        .update_aliases("dev-shop-db", &aliases, "\"e1\"")
        .await
        .expect_err("aborted");
    assert!(matches!(err, SecretError::Conflict { .. }), "{err}");
    let err = s
        .update_aliases("dev-shop-db", &aliases, "\"e2\"")
        .await
        .expect_err("stale");
    assert!(matches!(err, SecretError::Conflict { .. }), "{err}");

    let update = |etag: &str| {
        Call::Update(
            UpdateSecretRequest::new()
                .set_secret(
                    Secret::new()
                        .set_name(SECRET)
                        .set_version_aliases(HashMap::from([
                            ("current".to_owned(), 5i64),
                            ("previous".to_owned(), 4),
                        ]))
                        .set_etag(etag),
                )
                .set_update_mask(
                    google_cloud_wkt::FieldMask::default().set_paths(["version_aliases"]),
                ),
        )
    };
    let get = Call::Get(GetSecretRequest::new().set_name(SECRET));
    assert_eq!(
        calls(&fake),
        [update("\"e1\""), update("\"e1\""), update("\"e2\""), get]
    );
}

#[tokio::test]
async fn version_state_changes_name_the_version_and_are_idempotent() {
    use secret_version::State;
    let (s, fake) = store(vec![
        Reply::Version(Ok(version(1, State::Disabled))),
        Reply::Version(Ok(version(1, State::Enabled))),
        Reply::Version(Ok(version(1, State::Destroyed))),
        Reply::Version(Err(error(Code::FailedPrecondition, "already destroyed"))),
        Reply::Version(Ok(version(1, State::Destroyed))),
        Reply::Version(Err(error(Code::FailedPrecondition, "destroyed"))),
        Reply::Version(Ok(version(2, State::Destroyed))),
    ]);
    s.disable_version("dev-shop-db", 1).await.unwrap();
    s.enable_version("dev-shop-db", 1).await.unwrap();
    s.destroy_version("dev-shop-db", 1).await.unwrap();
    s.destroy_version("dev-shop-db", 1)
        .await
        .expect("already destroyed is done");
    let err = s
        .enable_version("dev-shop-db", 2)
        .await
        .expect_err("destroyed cannot be enabled");
    assert!(matches!(err, SecretError::InvalidState { .. }), "{err}");

    let v = |n: u64| format!("{SECRET}/versions/{n}");
    assert_eq!(
        calls(&fake),
        [
            Call::Disable(DisableSecretVersionRequest::new().set_name(v(1))),
            Call::Enable(EnableSecretVersionRequest::new().set_name(v(1))),
            Call::Destroy(DestroySecretVersionRequest::new().set_name(v(1))),
            Call::Destroy(DestroySecretVersionRequest::new().set_name(v(1))),
            Call::GetVersion(GetSecretVersionRequest::new().set_name(v(1))),
            Call::Enable(EnableSecretVersionRequest::new().set_name(v(2))),
            Call::GetVersion(GetSecretVersionRequest::new().set_name(v(2))),
        ]
    );
}

#[tokio::test]
async fn get_secret_reads_aliases_etag_and_every_page_of_versions() {
    use secret_version::State;
    let secret = Secret::new()
        .set_name(SECRET)
        .set_labels(labels())
        .set_etag("\"e7\"")
        .set_version_aliases([("current", 3i64), ("previous", 2)]);
    let (s, fake) = store(vec![
        Reply::Secret(Ok(secret)),
        Reply::Versions(
            ListSecretVersionsResponse::new()
                .set_versions([version(3, State::Enabled), version(2, State::Enabled)])
                .set_next_page_token("page-2"),
        ),
        Reply::Versions(
            ListSecretVersionsResponse::new().set_versions([version(1, State::Destroyed)]),
        ),
        Reply::Secret(Err(error(Code::NotFound, "no such secret"))),
    ]);
    let info = s.get_secret("dev-shop-db").await.unwrap().expect("exists");
    assert_eq!(info.etag, "\"e7\"");
    assert_eq!(info.labels, labels());
    assert_eq!(
        info.aliases,
        BTreeMap::from([("current".to_owned(), 3), ("previous".to_owned(), 2)])
    );
    let versions: Vec<(u64, VersionState)> =
        info.versions.iter().map(|v| (v.version, v.state)).collect();
    assert_eq!(
        versions,
        [
            (1, VersionState::Destroyed),
            (2, VersionState::Enabled),
            (3, VersionState::Enabled)
        ]
    );
    assert_eq!(info.versions[0].created_at.timestamp(), 1_700_000_001);
    assert!(s.get_secret("dev-shop-db").await.unwrap().is_none());

    let list = ListSecretVersionsRequest::new().set_parent(SECRET);
    assert_eq!(
        calls(&fake),
        [
            Call::Get(GetSecretRequest::new().set_name(SECRET)),
            Call::ListVersions(list.clone()),
            Call::ListVersions(list.set_page_token("page-2")),
            Call::Get(GetSecretRequest::new().set_name(SECRET)),
        ]
    );
}

#[tokio::test]
async fn delete_and_list_secrets() {
    let labelled = |name: &str, env: &str| {
        Secret::new()
            .set_name(format!("projects/acme/secrets/{name}"))
            .set_labels([("environment", env), ("managed-by", "groundskeeper")])
    };
    let (s, fake) = store(vec![
        Reply::Empty(Ok(())),
        Reply::Empty(Err(error(Code::NotFound, "gone"))),
        // The server filter is only a narrowing: a near miss it lets through is dropped here.
        Reply::Secrets(
            ListSecretsResponse::new()
                .set_secrets([labelled("dev-b-db", "shop"), labelled("dev-x-db", "shop-2")]),
        ),
    ]);
    assert!(s.delete_secret("dev-shop-db").await.unwrap());
    assert!(!s.delete_secret("dev-shop-db").await.unwrap());
    let names = s
        .list_secrets(&[("managed-by", "groundskeeper"), ("environment", "shop")])
        .await
        .unwrap();
    assert_eq!(names, ["dev-b-db"]);
    assert_eq!(
        calls(&fake),
        [
            Call::Delete(DeleteSecretRequest::new().set_name(SECRET)),
            Call::Delete(DeleteSecretRequest::new().set_name(SECRET)),
            Call::List(
                ListSecretsRequest::new()
                    .set_parent("projects/acme")
                    .set_filter(
                        r#"labels.managed-by:"groundskeeper" AND labels.environment:"shop""#
                    )
            ),
        ]
    );
}

#[tokio::test]
async fn invalid_input_never_reaches_the_service() {
    let (s, fake) = store(vec![]);
    assert!(matches!(
        s.add_version("a/b", &SecretString::from("x".to_owned()))
            .await,
        Err(SecretError::InvalidArgument { .. })
    ));
    assert!(matches!(
        s.access("dev-shop-db", "../1").await,
        Err(SecretError::InvalidArgument { .. })
    ));
    let bad_alias: BTreeMap<String, u64> = [("latest".to_owned(), 1)].into();
    assert!(matches!(
        s.update_aliases("dev-shop-db", &bad_alias, "e").await,
        Err(SecretError::InvalidArgument { .. })
    ));
    assert!(matches!(
        s.list_secrets(&[("env", "a\" OR name:x")]).await,
        Err(SecretError::InvalidArgument { .. })
    ));
    assert!(calls(&fake).is_empty());
}

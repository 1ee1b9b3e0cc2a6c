//! The harness itself: each component starts, does its job, and leaves nothing running
//! (no live process in its group, its port closed, its temp dir gone) once dropped.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use testbed::{FakeGcs, Postgres, PubsubEmulator};

fn port_is_open(port: u16) -> bool {
    is_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

fn is_listening(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).is_ok()
}

#[test]
fn unique_names_differ_and_keep_their_prefix() {
    let a = testbed::unique_name("orders");
    let b = testbed::unique_name("orders");
    assert_ne!(a, b);
    assert!(a.starts_with("orders-"), "{a}");
    assert!(
        a.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{a}"
    );
}

#[test]
fn free_port_can_be_bound() {
    let port = testbed::free_port();
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the free port binds");
}

#[tokio::test]
async fn postgres_serves_fresh_databases_and_stops_on_drop() {
    let pg = Postgres::start().await;
    let port = pg.port();
    let dir = pg.dir().to_owned();
    let first = pg.fresh_database().await;
    let second = pg.fresh_database().await;
    assert_ne!(first, second);

    let pool = sqlx::PgPool::connect(&first)
        .await
        .expect("connect to the fresh database");
    sqlx::query("create table t (n int)")
        .execute(&pool)
        .await
        .expect("create table");
    sqlx::query("insert into t values (41), (1)")
        .execute(&pool)
        .await
        .expect("insert");
    let (sum,): (i64,) = sqlx::query_as("select sum(n) from t")
        .fetch_one(&pool)
        .await
        .expect("select");
    assert_eq!(sum, 42);
    let (name,): (String,) = sqlx::query_as("select current_database()")
        .fetch_one(&pool)
        .await
        .expect("select");
    assert!(first.ends_with(&format!("/{name}")), "{first} vs {name}");
    pool.close().await;

    // The second database is separate: the table is not there.
    let other = sqlx::PgPool::connect(&second)
        .await
        .expect("connect to the second database");
    let missing = sqlx::query("select * from t").execute(&other).await;
    assert!(missing.is_err(), "table leaked between fresh databases");
    other.close().await;

    drop(pg);
    assert!(
        !port_is_open(port),
        "PostgreSQL still listens on {port} after drop"
    );
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[tokio::test]
async fn pubsub_emulator_round_trips_and_its_group_dies_on_drop() {
    let emulator = PubsubEmulator::start().await;
    let (port, pgid) = (emulator.port(), emulator.pgid());
    assert_eq!(emulator.host(), format!("127.0.0.1:{port}"));
    assert_eq!(emulator.endpoint(), format!("http://127.0.0.1:{port}"));

    let topic = testbed::unique_name("topic");
    let sub = testbed::unique_name("sub");
    emulator.create_topic(&topic).await;
    emulator.create_pull_subscription(&topic, &sub).await;
    let attributes = BTreeMap::from([("kind".to_owned(), "test".to_owned())]);
    let id = emulator.publish(&topic, b"{\"n\":1}", &attributes).await;
    emulator.publish(&topic, b"second", &BTreeMap::new()).await;

    let pulled = emulator.pull(&sub, 2, Duration::from_secs(10)).await;
    assert_eq!(pulled.len(), 2, "{pulled:?}");
    let first = pulled
        .iter()
        .find(|m| m.message_id == id)
        .expect("the first message");
    assert_eq!(first.data, b"{\"n\":1}");
    assert_eq!(first.attributes, attributes);
    assert!(pulled
        .iter()
        .any(|m| m.data == b"second" && m.attributes.is_empty()));
    // Acked: nothing comes back.
    assert!(emulator
        .pull(&sub, 1, Duration::from_millis(300))
        .await
        .is_empty());

    drop(emulator);
    assert!(
        testbed::process_group_gone(pgid),
        "emulator process group {pgid} still alive"
    );
    assert!(
        !port_is_open(port),
        "emulator still listens on {port} after drop"
    );
}

#[tokio::test]
async fn fake_gcs_stores_objects_and_its_group_dies_on_drop() {
    let gcs = FakeGcs::start().await;
    let (addr, pgid) = (gcs.addr(), gcs.pgid());
    assert!(addr.ip().is_loopback(), "{addr}");
    let bucket = testbed::unique_name("bucket");
    gcs.create_bucket(&bucket).await;
    assert!(gcs.list_objects(&bucket).await.is_empty());

    let url = format!(
        "{}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=a/b.txt",
        gcs.endpoint()
    );
    let response = reqwest::Client::new()
        .post(url)
        .body("hello")
        .send()
        .await
        .expect("upload");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(gcs.list_objects(&bucket).await, vec!["a/b.txt".to_owned()]);

    drop(gcs);
    assert!(
        testbed::process_group_gone(pgid),
        "fake-gcs-server group {pgid} still alive"
    );
    assert!(
        !is_listening(addr),
        "fake-gcs-server still listens on {addr} after drop"
    );
}

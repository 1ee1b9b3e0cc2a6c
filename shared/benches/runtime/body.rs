//! The delivery every request carries: a wrapped Pub/Sub push body, as Pub/Sub sends it,
//! of a `dev.groundskeeper.example.ping.v1` event for environment `demo`.

/// The event type example-service (and the peer) accept.
pub const PING: &str = "dev.groundskeeper.example.ping.v1";

/// `{"name":"demo"}`, base64-encoded as Pub/Sub carries it (checked by [`check`]).
const DATA: &str = "eyJuYW1lIjoiZGVtbyJ9";

/// A push body whose message id and CloudEvents id are `id` (distinct ids make every
/// delivery a real claim when the ledger is on).
pub fn ping(id: &str) -> Vec<u8> {
    // Formatted rather than built with serde_json: the load generator makes one per request
    // on a single core and must stay far cheaper than the server's work. `id` is [a-z0-9-].
    format!(
        r#"{{"message":{{"data":"{DATA}","attributes":{{"ce-type":"{PING}","ce-source":"//bench/runtime","ce-id":"{id}","ce-specversion":"1.0"}},"messageId":"{id}","message_id":"{id}","publishTime":"2026-11-22T10:00:00.123Z","publish_time":"2026-11-22T10:00:00.123Z"}},"subscription":"projects/bench/subscriptions/ping-push"}}"#
    )
    .into_bytes()
}

/// A whole HTTP/1.1 request carrying `body` on a connection the server closes after.
pub fn raw_request(body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// A whole HTTP/1.1 `GET path` on a connection the server closes after.
pub fn raw_get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Fails the benchmark early if the constant above stops being what it claims.
pub fn check() {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(DATA)
        .expect("base64");
    assert_eq!(decoded, br#"{"name":"demo"}"#, "DATA is the demo ping");
    let body: serde_json::Value = serde_json::from_slice(&ping("x-1")).expect("the body is JSON");
    assert_eq!(body["message"]["attributes"]["ce-id"], "x-1");
}

//! Every malformed input we know, from the decoders (`events/src/delivery/…`), the payload
//! types and the push token check, in the order the table shows them.

use events::types::{ENVIRONMENT_REQUESTED as REQUESTED, ENVIRONMENT_TEARDOWN_REQUESTED};
use serde_json::json;

use crate::row::{Row, INVALID_PAYLOAD, UNDECODABLE, UNKNOWN_TYPE};

const TEARDOWN: &str = ENVIRONMENT_TEARDOWN_REQUESTED;
const SWEEP: &str = events::types::ENVIRONMENT_TTL_SWEEP;

pub fn rows() -> Vec<Row> {
    let mut rows = envelopes();
    rows.extend(types());
    rows.extend(payloads());
    rows.extend(tokens());
    rows
}

/// A request for `name`, otherwise valid.
fn request(name: &str) -> Vec<u8> {
    json!({ "name": name, "owner": "ci@example.com", "tier": "ephemeral" })
        .to_string()
        .into_bytes()
}

fn deep(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

fn envelopes() -> Vec<Row> {
    let ce = |extra: &[(&'static str, &'static str)]| {
        let mut headers = vec![
            ("content-type", "application/json"),
            ("ce-specversion", "1.0"),
            ("ce-id", "ce-1"),
            ("ce-source", "//ci"),
            ("ce-type", TEARDOWN),
        ];
        for (name, value) in extra {
            headers.retain(|(n, _)| n != name);
            if !value.is_empty() {
                headers.push((name, value));
            }
        }
        headers
    };
    let structured = [("content-type", "application/cloudevents+json")];
    let json = [("content-type", "application/json")];
    let message = |data: &str| json!({ "data": data, "messageId": "m-1", "attributes": { "ce-type": TEARDOWN } });
    vec![
        Row::wrapped("`message.data` is not base64 (`%%not base64%%`)", message("%%not base64%%"), UNDECODABLE),
        Row::raw("body is not JSON (`{not json`)", &json, "{not json", UNDECODABLE),
        Row::raw("empty body", &json, "", UNDECODABLE),
        Row::raw("JSON without `message` or `specversion` (`{\"name\": \"shop\"}`)", &json, r#"{"name": "shop"}"#, UNDECODABLE),
        Row::raw("body nested 100 000 arrays deep", &json, deep(100_000), UNDECODABLE),
        Row::wrapped("`message` is a string", json!("hello"), UNDECODABLE),
        Row::wrapped("`message.messageId` missing", json!({ "data": "e30=", "attributes": { "ce-type": TEARDOWN } }), UNDECODABLE),
        Row::wrapped("an attribute is a number (`\"ce-type\": 5`)", json!({ "data": "e30=", "messageId": "m-2", "attributes": { "ce-type": 5 } }), UNDECODABLE),
        Row::wrapped("`message.publishTime` is not a timestamp", json!({ "data": "e30=", "messageId": "m-3", "publishTime": "yesterday", "attributes": { "ce-type": TEARDOWN } }), UNDECODABLE),
        Row::raw("`deliveryAttempt` is -1", &json, json!({ "message": message("e30="), "deliveryAttempt": -1 }).to_string(), UNDECODABLE),
        Row::raw("binary CloudEvent without `ce-type`", &ce(&[("ce-type", "")]), r#"{"name": "shop"}"#, UNDECODABLE),
        Row::raw("binary CloudEvent with `ce-specversion: 0.3`", &ce(&[("ce-specversion", "0.3")]), r#"{"name": "shop"}"#, UNDECODABLE),
        Row::raw("binary CloudEvent with `ce-time: yesterday`", &ce(&[("ce-time", "yesterday")]), r#"{"name": "shop"}"#, UNDECODABLE),
        Row::raw("structured CloudEvent with `specversion: \"2.0\"`", &structured, json!({ "specversion": "2.0", "id": "s-1", "source": "//ci", "type": TEARDOWN, "data": { "name": "shop" } }).to_string(), UNDECODABLE),
        Row::raw("structured CloudEvent whose `data_base64` is not base64", &structured, json!({ "specversion": "1.0", "id": "s-2", "source": "//ci", "type": TEARDOWN, "data_base64": "%%" }).to_string(), UNDECODABLE),
        Row::raw("Eventarc `messagePublished` whose data is not the push wrapper", &structured, json!({ "specversion": "1.0", "id": "s-3", "source": "//pubsub", "type": events::types::PUBSUB_MESSAGE_PUBLISHED, "data": [1, 2] }).to_string(), UNDECODABLE),
        Row::raw("Cloud Scheduler request without `X-CloudScheduler-JobName`", &[("x-cloudscheduler", "true"), ("ce-type", SWEEP)], "{}", UNDECODABLE),
        Row::raw("Cloud Scheduler request with `X-CloudScheduler-ScheduleTime: yesterday`", &[("x-cloudscheduler", "true"), ("x-cloudscheduler-jobname", "sweep"), ("x-cloudscheduler-scheduletime", "yesterday"), ("ce-type", SWEEP)], "{}", UNDECODABLE),
        Row::raw("Cloud Scheduler request without `ce-type`", &[("x-cloudscheduler", "true"), ("x-cloudscheduler-jobname", "sweep"), ("x-cloudscheduler-scheduletime", "2026-11-27T10:00:00Z")], "{}", UNKNOWN_TYPE),
        Row::raw("unwrapped push with an empty `x-goog-pubsub-message-id`", &[("x-goog-pubsub-message-id", ""), ("ce-type", TEARDOWN)], r#"{"name": "shop"}"#, UNDECODABLE),
        Row::raw("unwrapped push with a non-ASCII header (`x-team: équipe`)", &[("x-goog-pubsub-message-id", "u-2"), ("ce-type", TEARDOWN), ("x-team", "équipe")], r#"{"name": "shop"}"#, UNDECODABLE),
        Row::raw("unwrapped push of an unknown type (its headers become attributes; the token must not)", &[("x-goog-pubsub-message-id", "u-3"), ("ce-type", "dev.groundskeeper.nobody.v1")], r#"{"name": "shop"}"#, UNKNOWN_TYPE),
        Row::raw("batched CloudEvents", &[("content-type", "application/cloudevents-batch+json")], "[]", UNDECODABLE),
        Row {
            status: 413,
            dead_letter: None,
            ..Row::raw("20 MB body (more than any Pub/Sub push)", &json, vec![b' '; 20 * 1024 * 1024], UNDECODABLE)
        },
    ]
}

fn types() -> Vec<Row> {
    let data = br#"{"name": "shop"}"#;
    vec![
        Row::push(
            "no `ce-type` and no notification attributes",
            json!({ "ce-source": "//ci" }),
            data,
            UNKNOWN_TYPE,
        ),
        Row::push(
            "empty `ce-type`",
            json!({ "ce-type": "" }),
            data,
            UNDECODABLE,
        ),
        Row::push(
            "budget notification with only `billingAccountId`",
            json!({ "billingAccountId": "01D4EE-079462-DFD6EC" }),
            b"{}",
            UNKNOWN_TYPE,
        ),
        Row::push(
            "budget notification with only `budgetId`",
            json!({ "budgetId": "de72f49d-779b-4945-a127-4d6ce8def0bb" }),
            b"{}",
            UNKNOWN_TYPE,
        ),
        Row::push(
            "complete budget notification (budget-guard's, not ours)",
            json!({ "billingAccountId": "01D4EE-079462-DFD6EC", "budgetId": "de72f49d" }),
            b"{}",
            UNKNOWN_TYPE,
        ),
        Row::push(
            "Secret Manager notification, `secretId` `projects/1/secrets/../../x`",
            json!({ "eventType": "SECRET_ROTATE", "secretId": "projects/1/secrets/../../x" }),
            b"{}",
            UNKNOWN_TYPE,
        ),
        Row::event(
            "rotation request for secret `a/b` (secret-rotator's type)",
            events::types::ROTATION_REQUESTED,
            br#"{"secret": "a/b"}"#,
            UNKNOWN_TYPE,
        ),
        Row::event(
            "unknown event type `dev.groundskeeper.nobody.v1`",
            "dev.groundskeeper.nobody.v1",
            data,
            UNKNOWN_TYPE,
        ),
    ]
}

fn payloads() -> Vec<Row> {
    let req = |input: &str, data: serde_json::Value| {
        Row::event(
            input,
            REQUESTED,
            data.to_string().as_bytes(),
            INVALID_PAYLOAD,
        )
    };
    vec![
        req("wrong JSON type: `\"name\": 5`", json!({ "name": 5, "owner": "ci@example.com", "tier": "dev" })),
        req("wrong JSON types: `\"name\": [\"shop\"]`, `\"owner\": 1`, `\"tier\": [\"dev\"]`", json!({ "name": ["shop"], "owner": 1, "tier": ["dev"] })),
        Row::event("TTL sweep with an unknown field", events::types::ENVIRONMENT_TTL_SWEEP, br#"{"all": true}"#, INVALID_PAYLOAD),
        req("wrong JSON type: `\"ttl\": 7200` for a readable name", json!({ "name": "shop", "owner": "ci@example.com", "tier": "dev", "ttl": 7200 })).refused(),
        req("payload is an array", json!(["shop"])),
        Row::event("payload is not JSON", REQUESTED, b"name=shop", INVALID_PAYLOAD),
        Row::event("payload is not UTF-8", REQUESTED, b"{\"name\": \"\xff\xfe\"}", INVALID_PAYLOAD),
        // Within Pub/Sub's 10 MB message limit, but base64 in the wrapped push makes it 12 MB.
        Row::event("9 MB payload, pushed wrapped (a 12 MB body)", REQUESTED, json!({ "padding": "a".repeat(9 * 1024 * 1024) }).to_string().as_bytes(), INVALID_PAYLOAD),
        Row::event("payload nested 100 000 arrays deep", REQUESTED, deep(100_000).as_bytes(), INVALID_PAYLOAD),
        Row::event("environment name `x'; DROP TABLE control.environments; --`", REQUESTED, &request("x'; DROP TABLE control.environments; --"), INVALID_PAYLOAD),
        Row::event("environment name `../../etc`", REQUESTED, &request("../../etc"), INVALID_PAYLOAD),
        Row::event("environment name `a/b` (its secret id would hold a `/`)", REQUESTED, &request("a/b"), INVALID_PAYLOAD),
        Row::event("environment name with a NUL byte", REQUESTED, &request("shop\u{0}x"), INVALID_PAYLOAD),
        Row::event("environment name of 200 characters", REQUESTED, &request(&"a".repeat(200)), INVALID_PAYLOAD),
        Row::event("teardown of `x'; DROP TABLE control.environments; --`", TEARDOWN, json!({ "name": "x'; DROP TABLE control.environments; --" }).to_string().as_bytes(), INVALID_PAYLOAD),
        Row::event("teardown of `../../etc`", TEARDOWN, br#"{"name": "../../etc"}"#, INVALID_PAYLOAD),
        req("`from_backup: \"../../etc\"`", json!({ "name": "shop-a", "owner": "ci@example.com", "tier": "dev", "from_backup": "../../etc" })).refused(),
        req("label value `'; DROP TABLE x; --`", json!({ "name": "shop-b", "owner": "ci@example.com", "tier": "dev", "labels": { "team": "'; DROP TABLE x; --" } })).refused(),
        req("tier `prod`", json!({ "name": "shop-c", "owner": "ci@example.com", "tier": "prod" })).refused(),
        req("unknown field `\"admin\": true`", json!({ "name": "shop-d", "owner": "ci@example.com", "tier": "dev", "admin": true })).refused(),
    ]
}

fn tokens() -> Vec<Row> {
    vec![
        Row::token("push token: none", ""),
        Row::token("push token: wrong audience", "wrong-audience"),
        Row::token("push token: expired", "expired"),
        Row::token("push token: wrong signature", "bad-signature"),
        Row::token("push token: `alg: none`", "alg-none"),
        Row::token("push token: `alg: HS256` (key confusion)", "alg-hs256"),
        Row::token("push token: unknown `kid`", "unknown-kid"),
        Row::token("push token: caller not allowed", "email-not-allowed"),
        Row::token("push token: `Basic` scheme", "basic-scheme"),
    ]
}

//! Why structured-mode CloudEvents are not decoded with the CloudEvents SDK: its JSON format
//! would change what reaches the handler. Each case decodes as we need through ours.

use cloudevents::{Data, Event};
use events::delivery::decode;
use http::HeaderMap;

const BODY: &[u8] =
    br#"{"specversion":"1.0","type":"t","source":"//s","id":"1","data":{"b":1.50,"a":[1, 2]}}"#;

#[test]
fn the_sdk_reformats_structured_data_we_keep_byte_for_byte() {
    let mut sdk: Event = serde_json::from_slice(BODY).expect("the SDK reads it");
    let Some(Data::Json(value)) = sdk.take_data().2 else {
        panic!("JSON data");
    };
    assert_eq!(
        serde_json::to_vec(&value).unwrap(),
        br#"{"a":[1,2],"b":1.5}"#
    );
    assert_eq!(
        decode(&HeaderMap::new(), BODY).unwrap().data,
        br#"{"b":1.50,"a":[1, 2]}"#
    );
}

#[test]
fn the_sdk_keeps_the_last_of_duplicate_keys_where_our_typed_decoding_refuses_them() {
    let body = br#"{"specversion":"1.0","type":"t","source":"//s","id":"1","data":{"name":"a","name":"b"}}"#;
    let mut sdk: Event = serde_json::from_slice(body).expect("the SDK reads it");
    let Some(Data::Json(value)) = sdk.take_data().2 else {
        panic!("JSON data");
    };
    assert_eq!(value, serde_json::json!({"name": "b"}));
    let ours = decode(&HeaderMap::new(), body).unwrap();
    assert_eq!(ours.data, br#"{"name":"a","name":"b"}"#);
    let err = ours.typed::<Named>().expect_err("refused");
    assert!(err.to_string().contains("duplicate field `name`"), "{err}");
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Named {
    name: String,
}

impl events::TypedEvent for Named {
    const TYPE: &'static str = "t";
}

#[test]
fn the_sdk_refuses_extensions_and_dataschemas_we_accept() {
    for body in [
        &br#"{"specversion":"1.0","type":"t","source":"//s","id":"1","ext":{"k":"v"}}"#[..],
        br#"{"specversion":"1.0","type":"t","source":"//s","id":"1","ratio":0.5}"#,
        br#"{"specversion":"1.0","type":"t","source":"//s","id":"1","dataschema":"/s.json"}"#,
    ] {
        assert!(serde_json::from_slice::<Event>(body).is_err());
        decode(&HeaderMap::new(), body).expect("ours decodes it");
    }
}

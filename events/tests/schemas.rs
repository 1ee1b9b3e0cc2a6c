//! The checked-in JSON Schemas (`events/schemas/`) match the types.
//!
//! After changing a payload type, regenerate them with
//! `UPDATE_SCHEMAS=1 cargo nextest run -p events --test schemas` and commit the result.

use std::path::Path;

use events::{schema, types};

#[test]
fn checked_in_schemas_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    #[allow(clippy::disallowed_methods)] // test harness switch, not service configuration
    let update = std::env::var("UPDATE_SCHEMAS").is_ok_and(|v| v == "1");
    let all = schema::all();
    let listed: Vec<&str> = all.iter().map(|(ty, _)| *ty).collect();
    assert_eq!(
        listed,
        types::OURS,
        "schema::all() and types::OURS list the same types"
    );
    let mut stale = Vec::new();
    for (ty, schema) in &all {
        let path = dir.join(schema::file_name(ty));
        let expected = serde_json::to_string_pretty(schema).expect("serialisable") + "\n";
        if update {
            std::fs::write(&path, &expected).expect("writable schemas dir");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    let files = std::fs::read_dir(&dir).expect("schemas dir").count();
    assert!(
        stale.is_empty(),
        "stale schemas (run with UPDATE_SCHEMAS=1): {stale:?}"
    );
    assert_eq!(
        files,
        all.len(),
        "schemas/ holds a file for a type that no longer exists"
    );
}

#[test]
fn schemas_are_strict_and_carry_their_type() {
    for (ty, schema) in schema::all() {
        let value = schema.as_value();
        assert_eq!(value["x-cloudevents-type"], ty);
        assert_eq!(
            value["additionalProperties"], false,
            "{ty} is not deny_unknown_fields"
        );
    }
    let request = schema::schema_of::<events::environment::EnvironmentRequested>();
    let name = &request.as_value()["properties"]["name"];
    let reference = name["$ref"].as_str().expect("a reference to EnvName");
    let key = reference.trim_start_matches("#/$defs/");
    assert_eq!(request.as_value()["$defs"][key]["maxLength"], 30);
}

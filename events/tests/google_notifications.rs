//! Google's notifications, decoded from their delivery fixtures into typed payloads.

use std::path::Path;

use events::budget::BudgetNotification;
use events::secret_manager::{SecretEventType, SecretManagerNotification};
use events::{delivery, types, RawEvent};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

fn decoded(fixture: &str) -> RawEvent {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/delivery")
        .join(fixture);
    let fixture: Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON");
    let mut headers = HeaderMap::new();
    for (name, value) in fixture["request"]["headers"].as_object().expect("headers") {
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value.as_str().expect("string")).expect("value"),
        );
    }
    let body = match &fixture["request"]["body_text"] {
        Value::String(text) => text.clone().into_bytes(),
        _ => serde_json::to_vec(&fixture["request"]["body"]).expect("body"),
    };
    delivery::decode(&headers, &body).expect("decodes")
}

#[test]
fn a_budget_notification_reads_attributes_and_data() {
    for fixture in ["push-wrapped-budget.json", "push-unwrapped-budget.json"] {
        let event = decoded(fixture)
            .typed::<BudgetNotification>()
            .expect("typed");
        let budget = event.data;
        assert_eq!(
            budget.billing_account_id, "01D4EE-079462-DFD6EC",
            "{fixture}"
        );
        assert_eq!(budget.budget_id, "de72f49d-779b-4945-a127-4d6ce8def0bb");
        assert_eq!(budget.schema_version.as_deref(), Some("1.0"));
        assert_eq!(budget.data.budget_display_name, "non-prod-monthly");
        assert_eq!(budget.data.alert_threshold_exceeded, Some(0.9));
        assert_eq!(budget.data.forecast_threshold_exceeded, None);
        assert_eq!(budget.data.currency_code, "EUR");
        assert_eq!(
            budget.data.budget_amount, 1000.0,
            "an integer amount decodes"
        );
        let ratio = budget.spend_ratio().expect("non-zero budget");
        assert!((ratio - 0.92035).abs() < 1e-9, "ratio {ratio}");
    }
}

#[test]
fn a_budget_notification_tolerates_new_fields_and_needs_both_attributes_or_neither() {
    let data = br#"{"budgetDisplayName":"b","costAmount":0,"costIntervalStart":"2024-05-01T07:00:00Z","budgetAmount":0.0,"budgetAmountType":"LAST_PERIOD_AMOUNT","currencyCode":"USD","forecastThresholdExceeded":1.2,"somethingNew":{"x":1}}"#;
    let mut raw = RawEvent::bare(types::BUDGET_NOTIFICATION, data.to_vec());
    let bare = raw.clone().typed::<BudgetNotification>().expect("neither");
    assert!(bare.data.is_unattributed());
    raw.attributes.insert("budgetId".into(), "B".into());
    let err = raw
        .clone()
        .typed::<BudgetNotification>()
        .expect_err("one without the other");
    assert_eq!(
        err.to_string(),
        "payload of `google.cloud.billing.budgets.v1.notification` is invalid: attribute `billingAccountId` is missing"
    );
    raw.attributes.insert("billingAccountId".into(), "A".into());
    let budget = raw.typed::<BudgetNotification>().expect("tolerant").data;
    assert!(!budget.is_unattributed());
    assert_eq!(budget.data.forecast_threshold_exceeded, Some(1.2));
    assert_eq!(budget.spend_ratio(), None, "a zero budget has no ratio");
}

/// The test message of Google's docs ("Examples of automated cost control responses") is
/// published by hand with no attributes: it decodes as an unattributed budget notification,
/// while any other attribute-less JSON stays untyped.
#[test]
fn googles_hand_published_test_message_is_an_unattributed_budget_notification() {
    use base64::Engine as _;
    let push = |data: &str| {
        let data = base64::engine::general_purpose::STANDARD.encode(data);
        let body = format!(
            r#"{{"message":{{"data":"{data}","messageId":"1","publishTime":"2024-05-01T00:00:00Z"}},"subscription":"projects/p/subscriptions/s"}}"#
        );
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        delivery::decode(&headers, body.as_bytes())
    };
    let google = r#"{"budgetDisplayName": "name-of-budget", "alertThresholdExceeded": 1.0, "costAmount": 100.01, "costIntervalStart": "2019-01-01T00:00:00Z", "budgetAmount": 100.00, "budgetAmountType": "SPECIFIED_AMOUNT", "currencyCode": "USD"}"#;
    let n = push(google)
        .expect("decodes")
        .typed::<BudgetNotification>()
        .expect("typed")
        .data;
    assert!(n.is_unattributed());
    assert_eq!(n.data.cost_amount, 100.01);
    let err = push(r#"{"environment": "x"}"#).expect_err("untyped");
    assert!(matches!(err, events::DecodeError::MissingType), "{err}");
}

#[test]
fn a_secret_rotate_notification_names_the_secret() {
    let n = decoded("push-wrapped-secret-rotate.json")
        .typed::<SecretManagerNotification>()
        .expect("typed")
        .data;
    assert_eq!(n.event_type, SecretEventType::Rotate);
    assert_eq!(
        n.secret_id,
        "projects/123456789012/secrets/staging-eu-db-credentials"
    );
    assert_eq!(n.secret_name(), Some("staging-eu-db-credentials"));
    assert_eq!(n.data_format.as_deref(), Some("JSON"));
    assert_eq!(
        n.resource.version_aliases.get("current"),
        Some(&6),
        "int64 strings decode"
    );
    let rotation = n.resource.rotation.expect("rotation");
    assert_eq!(rotation.rotation_period.as_deref(), Some("2592000s"));
    assert_eq!(
        n.resource.labels.get("managed-by").map(String::as_str),
        Some("groundskeeper")
    );
}

#[test]
fn other_secret_manager_events_decode_so_they_can_be_acked() {
    let n = decoded("push-wrapped-secret-version-add.json")
        .typed::<SecretManagerNotification>()
        .expect("typed")
        .data;
    assert_eq!(n.event_type, SecretEventType::VersionAdd);
    assert_eq!(
        n.version_id.as_deref(),
        Some("projects/123456789012/secrets/staging-eu-db-credentials/versions/7")
    );
    assert_eq!(n.resource.state.as_deref(), Some("ENABLED"));

    let mut raw = RawEvent::bare(types::SECRET_MANAGER_NOTIFICATION, Vec::new());
    raw.attributes
        .insert("eventType".into(), "SECRET_DELETE".into());
    raw.attributes
        .insert("secretId".into(), "not-a-resource-name".into());
    let n = raw
        .typed::<SecretManagerNotification>()
        .expect("no data is fine")
        .data;
    assert_eq!(n.event_type, SecretEventType::Other("SECRET_DELETE".into()));
    assert_eq!(n.secret_name(), None);
}

#[test]
fn a_bad_int64_string_is_named() {
    let mut raw = RawEvent::bare(
        types::SECRET_MANAGER_NOTIFICATION,
        br#"{"versionAliases":{"current":"six"}}"#.to_vec(),
    );
    raw.attributes
        .insert("eventType".into(), "SECRET_ROTATE".into());
    raw.attributes
        .insert("secretId".into(), "projects/1/secrets/s".into());
    let err = raw
        .typed::<SecretManagerNotification>()
        .expect_err("bad alias");
    assert!(
        err.to_string()
            .contains("versionAliases.current: \"six\" is not an int64"),
        "{err}"
    );
}

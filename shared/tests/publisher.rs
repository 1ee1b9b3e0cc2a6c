//! `PubsubPublisher` against the real Pub/Sub emulator: what it publishes is what a
//! subscriber pulls, data and attributes alike.

use std::collections::BTreeMap;
use std::time::Duration;

use events::Message;
use shared::backends::publisher::{Publisher, PubsubPublisher};
use testbed::{unique_name, PubsubEmulator};

fn message(data: &[u8], attributes: &[(&str, &str)]) -> Message {
    Message {
        data: data.to_vec(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ordering_key: None,
    }
}

#[tokio::test]
async fn published_messages_arrive_with_their_data_and_attributes() {
    let emulator = PubsubEmulator::start().await;
    let (topic, sub) = (unique_name("topic"), unique_name("sub"));
    emulator.create_topic(&topic).await;
    emulator.create_pull_subscription(&topic, &sub).await;
    let publisher =
        PubsubPublisher::new(emulator.project(), Some(&emulator.host())).expect("publisher");

    let first = message(
        br#"{"environment":"pr-42"}"#,
        &[("ce-type", "dev.groundskeeper.test.v1")],
    );
    let id1 = publisher
        .publish(&topic, first.clone())
        .await
        .expect("first publish");
    let id2 = publisher
        .publish(&topic, message(b"second", &[]))
        .await
        .expect("second publish");
    assert_ne!(id1, id2);

    let pulled = emulator.pull(&sub, 2, Duration::from_secs(10)).await;
    assert_eq!(pulled.len(), 2, "{pulled:?}");
    let got1 = pulled
        .iter()
        .find(|m| m.message_id == id1)
        .expect("first message, by its id");
    assert_eq!(got1.data, first.data);
    assert_eq!(got1.attributes, first.attributes);
    let got2 = pulled
        .iter()
        .find(|m| m.message_id == id2)
        .expect("second message, by its id");
    assert_eq!(got2.data, b"second");
    assert_eq!(got2.attributes, BTreeMap::new());
}

#[tokio::test]
async fn one_publisher_serves_many_topics_and_ordering_keys() {
    let emulator = PubsubEmulator::start().await;
    let publisher =
        PubsubPublisher::new(emulator.project(), Some(&emulator.endpoint())).expect("publisher");
    let topics: Vec<String> = (0..3).map(|_| unique_name("topic")).collect();
    for topic in &topics {
        emulator.create_topic(topic).await;
        emulator
            .create_pull_subscription(topic, &format!("{topic}-sub"))
            .await;
    }
    for (i, topic) in topics.iter().enumerate() {
        let mut m = message(format!("to {i}").as_bytes(), &[("i", &i.to_string())]);
        m.ordering_key = Some("env-1".to_owned());
        publisher.publish(topic, m).await.expect("publish");
    }
    for (i, topic) in topics.iter().enumerate() {
        let pulled = emulator
            .pull(&format!("{topic}-sub"), 1, Duration::from_secs(10))
            .await;
        assert_eq!(pulled.len(), 1, "topic {topic}: {pulled:?}");
        assert_eq!(pulled[0].data, format!("to {i}").as_bytes());
        assert_eq!(pulled[0].attributes["i"], i.to_string());
    }
}

#[tokio::test]
async fn publishing_to_a_missing_topic_fails_naming_the_topic() {
    let emulator = PubsubEmulator::start().await;
    let publisher =
        PubsubPublisher::new(emulator.project(), Some(&emulator.host())).expect("publisher");
    let topic = unique_name("missing");
    let error = tokio::time::timeout(
        Duration::from_secs(20),
        publisher.publish(&topic, message(b"x", &[])),
    )
    .await
    .expect("a missing topic fails fast, without retrying")
    .expect_err("no such topic");
    assert_eq!(error.topic, topic);
    assert!(error.to_string().contains(&topic), "{error}");
}

#[test]
fn bad_configuration_is_refused_before_anything_is_contacted() {
    assert!(PubsubPublisher::new("", None).is_err());
    assert!(PubsubPublisher::new("projects/x", None).is_err());
    assert!(PubsubPublisher::new("p", Some("")).is_err());
    assert!(PubsubPublisher::new("p", Some("127.0.0.1:8085")).is_ok());
}

#[tokio::test]
async fn scratch() {
    let store = shared::backends::object_store::from_url("gs://bkt/p", Some("http://127.0.0.1:45125")).await.unwrap();
    let r = store.put("a/one.json", bytes::Bytes::from_static(b"{\"n\":1}"), "application/json").await;
    println!("{r:?}");
}

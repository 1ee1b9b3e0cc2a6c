//! The pipe between the dump and the upload: its end counts only with the dump's word, and
//! a reader may ask again after the end (Cloud Storage's upload source does) without harm.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use backup_runner::store::gated_pipe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn after_a_successful_dump_the_end_can_be_read_again_and_again() {
    let (mut side, mut reader) = gated_pipe();
    side.writer.write_all(b"PGDMP archive").await.unwrap();
    side.succeeded();
    let mut all = Vec::new();
    reader.read_to_end(&mut all).await.unwrap();
    assert_eq!(all, b"PGDMP archive");
    let mut buffer = [0u8; 16];
    for _ in 0..3 {
        assert_eq!(
            reader.read(&mut buffer).await.unwrap(),
            0,
            "still the end, no panic"
        );
    }
}

#[tokio::test]
async fn after_a_failed_dump_every_read_at_the_end_fails() {
    let (mut side, mut reader) = gated_pipe();
    side.writer.write_all(b"PGDMP trunc").await.unwrap();
    drop(side);
    let mut all = Vec::new();
    assert!(reader.read_to_end(&mut all).await.is_err());
    let mut buffer = [0u8; 16];
    assert!(
        reader.read(&mut buffer).await.is_err(),
        "never a clean end later"
    );
}

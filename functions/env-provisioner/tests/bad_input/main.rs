//! Bad input, catalogued (issue 14, section 5): every malformed delivery we know, pushed over
//! HTTP into env-provisioner's runtime — the router, push authentication, decoder,
//! dispatcher, ledger and handler of the binary — over real PostgreSQL, the local secret
//! store and a `file://` object store, with a recording publisher as the Pub/Sub side.
//!
//! For each row: the status, the dead letter's `error-type` / `error-reason`, and everything
//! else it changed (rows of every control table, databases and roles, objects, published
//! events), which must be nothing for all but the refusals the provisioner records by design.
//! The table in RELIABILITY.md is this test's output: regenerate it with
//! `UPDATE_RELIABILITY=1 cargo nextest run -p env-provisioner --test bad_input`.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "../support/mod.rs"]
mod support;

mod app;
mod catalogue;
mod row;
mod table;

use std::collections::BTreeMap;

use app::{App, DEAD_LETTER};
use table::Line;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_refused_without_side_effects() {
    let app = App::start().await;
    let mut lines = Vec::new();
    for row in catalogue::rows() {
        let before = app.census().await;
        let mut headers = row.headers.clone();
        if !row.token.is_empty() {
            headers.push(("authorization".into(), seed_token(row.token)));
        }
        let status = app.post(&headers, row.body).await;
        let after = app.census().await;
        let dead_letter = new_dead_letter(&app, &before, &after);
        let effects = changes(&before, &after);
        let line = Line {
            input: row.input,
            status,
            dead_letter,
            effects,
        };
        assert_eq!(line.status, row.status, "{}", line.input);
        let kind = line.dead_letter.as_ref().map(|(kind, _)| kind.as_str());
        assert_eq!(kind, row.dead_letter, "{}", line.input);
        let expected: Vec<String> = row.effects.iter().map(|e| format!("+1 {e}")).collect();
        assert_eq!(line.effects, expected, "{}", line.input);
        lines.push(line);
    }
    table::check_or_update(&table::render(&lines));
}

/// The dead letter this row published, if it published one (never more than one).
fn new_dead_letter(
    app: &App,
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) -> Option<(String, String)> {
    let count = |c: &BTreeMap<String, i64>| c.get("dead letter").copied().unwrap_or(0);
    match count(after) - count(before) {
        0 => None,
        1 => {
            let letters = app.stack.published.messages_to(DEAD_LETTER);
            let attrs = &letters.last().unwrap().attributes;
            let reason = attrs["error-reason"].clone();
            assert!(
                !reason.contains("postgres://"),
                "a URL in a reason: {reason}"
            );
            Some((attrs["error-type"].clone(), reason))
        }
        n => panic!("{n} dead letters for one delivery"),
    }
}

/// What changed besides the dead letter, as `+N what`.
fn changes(before: &BTreeMap<String, i64>, after: &BTreeMap<String, i64>) -> Vec<String> {
    after
        .iter()
        .filter(|(what, _)| what.as_str() != "dead letter")
        .filter_map(|(what, n)| {
            let delta = n - before.get(what).copied().unwrap_or(0);
            (delta != 0).then(|| format!("{delta:+} {what}"))
        })
        .collect()
}

/// The `Authorization` value in `fuzz/seeds/oidc_token/NAME`, signed for this service.
fn seed_token(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/oidc_token/");
    std::fs::read_to_string(format!("{dir}{name}"))
        .unwrap()
        .trim()
        .to_owned()
}

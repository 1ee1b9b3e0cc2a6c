//! The outcome of each row as a Markdown table, kept in RELIABILITY.md between two markers.

use std::path::PathBuf;

const START: &str = "<!-- bad-input:start -->";
const END: &str = "<!-- bad-input:end -->";

/// What happened to one row, as the table shows it.
pub struct Line {
    pub input: String,
    pub status: u16,
    /// `error-type` and `error-reason` of the dead letter, if one was published.
    pub dead_letter: Option<(String, String)>,
    /// What changed beyond the dead letter, e.g. `+1 row in control.deliveries`.
    pub effects: Vec<String>,
}

pub fn render(lines: &[Line]) -> String {
    let mut out = String::from(
        "| input | HTTP status | dead letter: `error-type`, `error-reason` | side effects |\n\
         |---|---:|---|---|\n",
    );
    for line in lines {
        let dead_letter = match &line.dead_letter {
            Some((kind, reason)) => format!("`{kind}`: {}", cell(reason)),
            None if line.status == 401 => "none: refused before decoding".to_owned(),
            None => "none".to_owned(),
        };
        let effects = match line.effects.as_slice() {
            [] => "none".to_owned(),
            effects => effects.join(", "),
        };
        out.push_str(&format!(
            "| {} | {} | {dead_letter} | {effects} |\n",
            line.input, line.status
        ));
    }
    out
}

/// Text safe in a table cell: no pipes or line breaks, and no Markdown or HTML markup.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "'")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// Compares `table` with RELIABILITY.md's section, or writes it there with
/// `UPDATE_RELIABILITY=1`.
pub fn check_or_update(table: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../RELIABILITY.md");
    let text = std::fs::read_to_string(&path).expect("RELIABILITY.md");
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        panic!("RELIABILITY.md has no {START} … {END} section");
    };
    let current = &text[start + START.len()..end];
    let wanted = format!("\n{table}");
    #[allow(clippy::disallowed_methods)] // test harness switch, not service configuration
    if std::env::var("UPDATE_RELIABILITY").is_ok_and(|v| v == "1") {
        let updated = format!("{}{START}{wanted}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated).expect("write RELIABILITY.md");
        return;
    }
    assert!(
        current == wanted,
        "RELIABILITY.md's bad-input table is not what the test saw; regenerate it with \
         UPDATE_RELIABILITY=1 cargo nextest run -p env-provisioner --test bad_input\n\
         --- what the test saw ---\n{table}"
    );
}

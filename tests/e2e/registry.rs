//! The service registry (`events::platform::SERVICES`) agrees with the folders and the docs:
//! every folder under `functions/` is a built service and every built service has its crate;
//! the root README's services table and IAM roles table list each registered service with
//! exactly its topics and roles; each service's README lists exactly its roles. Each failure
//! names the file and the service.

mod support;

use std::collections::BTreeSet;

use events::platform::{self, SERVICES};
use support::workspace;

/// The files a service crate consists of (CONTRIBUTING.md, step 1).
const CRATE_FILES: &[&str] = &["Cargo.toml", "README.md", "src/main.rs", "src/lib.rs"];

fn read(path: &str) -> String {
    std::fs::read_to_string(workspace().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `code spans` of a markdown fragment.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// A markdown table: its header cells and its rows' cells.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

/// Every table of `text`: runs of lines starting with `|`, the second being the rule.
fn tables(text: &str) -> Vec<Table> {
    let mut found = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with('|') {
            continue;
        }
        let header = cells(line);
        let mut rows = Vec::new();
        while let Some(next) = lines.next_if(|l| l.starts_with('|')) {
            rows.push(cells(next));
        }
        rows.retain(|r| !r.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')));
        found.push(Table { header, rows });
    }
    found
}

/// The one table of `file` whose header starts with `columns`.
fn table(file: &str, text: &str, columns: &[&str]) -> Table {
    let mut matching: Vec<Table> = tables(text)
        .into_iter()
        .filter(|t| {
            t.header.len() >= columns.len() && t.header.iter().zip(columns).all(|(h, c)| h == c)
        })
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{file}: want one table with columns {columns:?}"
    );
    matching.remove(0)
}

/// The service a row is about: a first cell that is one `name` (plus ` (planned)`).
fn row_service(row: &[String]) -> Option<(&str, &str)> {
    let first = row.first()?;
    let rest = first.strip_prefix('`')?;
    let (name, after) = rest.split_once('`')?;
    Some((name, after.trim()))
}

/// `wrong` for each registered service without a row, and each row of an unknown service.
fn rows_match_registry(file: &str, what: &str, table: &Table, wrong: &mut Vec<String>) {
    let listed: Vec<&str> = table
        .rows
        .iter()
        .filter_map(|r| row_service(r))
        .map(|(n, _)| n)
        .collect();
    for name in platform::names().filter(|n| !listed.contains(n)) {
        wrong.push(format!("{file}: the {what} lacks a row for `{name}`"));
    }
    for name in listed.iter().filter(|n| platform::service(n).is_none()) {
        wrong.push(format!(
            "{file}: the {what} lists `{name}`, which is not in the registry"
        ));
    }
}

#[test]
fn every_folder_under_functions_is_a_built_service_with_its_crate() {
    let mut wrong = Vec::new();
    let folders: BTreeSet<String> = std::fs::read_dir(workspace().join("functions"))
        .expect("functions/")
        .map(|e| e.expect("entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for folder in &folders {
        if !platform::service(folder).is_some_and(|s| s.built) {
            wrong.push(format!(
                "functions/{folder}/ is not a built service of the registry (events/src/platform.rs)"
            ));
        }
    }
    for spec in platform::built() {
        for file in CRATE_FILES {
            if !workspace()
                .join("functions")
                .join(spec.name)
                .join(file)
                .is_file()
            {
                wrong.push(format!(
                    "{}: functions/{}/{file} is missing",
                    spec.name, spec.name
                ));
            }
        }
        let cargo = workspace()
            .join("functions")
            .join(spec.name)
            .join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&cargo) {
            let package = format!("name = \"{}\"", spec.name);
            if !text.lines().any(|l| l.trim() == package) {
                wrong.push(format!(
                    "{}: functions/{}/Cargo.toml does not name its package `{}`",
                    spec.name, spec.name, spec.name
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What README.md's services table gets wrong.
fn services_table_disagreements(readme: &str) -> Vec<String> {
    let file = "README.md";
    let table = table(file, readme, &["service", "trigger topics", "summary"]);
    let mut wrong = Vec::new();
    rows_match_registry(file, "services table", &table, &mut wrong);
    for row in &table.rows {
        let Some((name, note)) = row_service(row) else {
            wrong.push(format!(
                "{file}: services table row {row:?} does not start with `NAME`"
            ));
            continue;
        };
        let Some(spec) = platform::service(name) else {
            continue;
        };
        let expected_note = if spec.built { "" } else { "(planned)" };
        if note != expected_note {
            wrong.push(format!(
                "{file}: services table, `{name}`: write {expected_note:?} after the name, not {note:?}"
            ));
        }
        let topics = row.get(1).map(|c| code_spans(c)).unwrap_or_default();
        if topics != spec.topics {
            wrong.push(format!(
                "{file}: services table, `{name}`: topics {topics:?}, the registry's are {:?}",
                spec.topics
            ));
        }
        if row.get(2).map(String::as_str) != Some(spec.summary) {
            wrong.push(format!(
                "{file}: services table, `{name}`: the summary is not the registry's: {:?}",
                spec.summary
            ));
        }
    }
    wrong
}

/// What README.md's IAM roles table gets wrong.
fn iam_table_disagreements(readme: &str) -> Vec<String> {
    let file = "README.md";
    let table = table(file, readme, &["service account", "roles on the project"]);
    let mut wrong = Vec::new();
    rows_match_registry(file, "IAM roles table", &table, &mut wrong);
    for row in &table.rows {
        let Some(spec) = row_service(row).and_then(|(name, _)| platform::service(name)) else {
            continue;
        };
        let listed: BTreeSet<&str> = row
            .get(1)
            .map(|c| code_spans(c))
            .unwrap_or_default()
            .into_iter()
            .collect();
        let registered: BTreeSet<&str> = spec.roles.iter().copied().collect();
        if listed != registered {
            wrong.push(format!(
                "{file}: IAM roles table, `{}`: roles {listed:?}, the registry's are {registered:?}",
                spec.name
            ));
        }
    }
    wrong
}

#[test]
fn the_root_readme_lists_every_service_with_its_topics_summary_and_roles() {
    let readme = read("README.md");
    let mut wrong = services_table_disagreements(&readme);
    wrong.extend(iam_table_disagreements(&readme));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The roles a service README's `## IAM roles` section lists: the first `code span` of each
/// top-level bullet (notes on grants beyond the project are indented or plain text).
fn readme_roles(readme: &str) -> Option<BTreeSet<&str>> {
    let section = readme.split("\n## ").find(|s| s.starts_with("IAM roles"))?;
    Some(
        section
            .lines()
            .filter_map(|l| l.strip_prefix("- "))
            .filter_map(|bullet| code_spans(bullet).first().copied())
            .collect(),
    )
}

#[test]
fn each_service_readme_lists_exactly_its_registry_roles() {
    let mut wrong = Vec::new();
    for spec in platform::built() {
        let file = format!("functions/{}/README.md", spec.name);
        let registered: BTreeSet<&str> = spec.roles.iter().copied().collect();
        match readme_roles(&read(&file)) {
            None => wrong.push(format!("{file}: no `## IAM roles` section")),
            Some(listed) if listed != registered => wrong.push(format!(
                "{file}: `{}` lists roles {listed:?}, the registry's are {registered:?}",
                spec.name
            )),
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_readme_that_disagrees_is_named_with_the_service() {
    let readme = read("README.md");
    let spec = &SERVICES[0];
    let topic = format!("`{}`", spec.topics[0]);
    let wrong = services_table_disagreements(&readme.replacen(&topic, "`elsewhere`", 1));
    assert!(
        wrong.iter().any(|w| w.starts_with(&format!(
            "README.md: services table, `{}`: topics",
            spec.name
        ))),
        "{wrong:?}"
    );
    let row = format!("\n| `{}` |", spec.name);
    let wrong = iam_table_disagreements(&readme.replace(&row, "\n| `someone-else` |"));
    assert!(
        wrong.contains(&format!(
            "README.md: the IAM roles table lacks a row for `{}`",
            spec.name
        )),
        "{wrong:?}"
    );
    assert!(
        wrong.contains(
            &"README.md: the IAM roles table lists `someone-else`, which is not in the registry"
                .to_owned()
        ),
        "{wrong:?}"
    );

    let service_readme = "# x\n\n## IAM roles\n\n- `roles/a` on the topic\n  - `roles/b` beyond the project\n- `roles/c`\n\n## Run\n- `roles/d`\n";
    assert_eq!(
        readme_roles(service_readme),
        Some(BTreeSet::from(["roles/a", "roles/c"]))
    );
}

//! Rendering plans and check lists: a table for people (default) or JSON for machines.

use std::fmt::Write;

use clap::ValueEnum;
use serde::Serialize;

use crate::plan::{Action, Change};

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// The plan as a table: one line per resource, one indented line per differing field, the
/// totals, and a note on grants when the plan has any.
pub fn plan_table(changes: &[Change]) -> String {
    let width = changes
        .iter()
        .map(|c| c.kind.len() + c.name.len() + 1)
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in changes {
        let what = format!("{} {}", c.kind, c.name);
        let verb = match &c.action {
            Action::Create => "create",
            Action::Update { .. } => "update",
            Action::Recreate { .. } => "recreate",
            Action::Unchanged => "unchanged",
            Action::Delete => "delete",
            Action::Refused { .. } => "refused",
        };
        let _ = writeln!(out, "{verb:<10} {what:<width$}");
        match &c.action {
            Action::Update { diffs } | Action::Recreate { diffs, .. } => {
                for d in diffs {
                    let _ = writeln!(out, "{:<10}   {}: {} -> {}", "", d.field, d.live, d.desired);
                }
                if let Action::Recreate { warning, .. } = &c.action {
                    let _ = writeln!(out, "{:<10}   WARNING: {warning}", "");
                }
            }
            Action::Refused { reason } => {
                let _ = writeln!(out, "{:<10}   {reason}", "");
            }
            _ => {}
        }
    }
    let count = |f: fn(&Action) -> bool| changes.iter().filter(|c| f(&c.action)).count();
    let _ = writeln!(
        out,
        "{} to create, {} to update, {} to delete, {} unchanged",
        count(|a| *a == Action::Create),
        count(|a| matches!(a, Action::Update { .. })),
        count(|a| *a == Action::Delete),
        count(|a| *a == Action::Unchanged),
    );
    // Said again after the totals, where the eye lands: apply stops on either.
    let recreate = count(|a| matches!(a, Action::Recreate { .. }));
    if recreate > 0 {
        let _ = writeln!(
            out,
            "WARNING: {recreate} to re-create, losing their backlog of unacknowledged messages; \
             apply does it only with {}",
            crate::converge::ALLOW_RECREATE_FLAG
        );
    }
    let refused = count(|a| matches!(a, Action::Refused { .. }));
    if refused > 0 {
        let _ = writeln!(
            out,
            "{refused} refused: not groundskeeper's; apply fails until they are resolved"
        );
    }
    if changes.iter().any(|c| c.kind == crate::iam::KIND) {
        // The legend for grants: their lines never say delete, and that is on purpose.
        let _ = writeln!(
            out,
            "{}: only ever added; apply never revokes a grant (remove one by hand)",
            crate::iam::KIND
        );
    }
    out
}

/// Prints `value` as the chosen output; `table` renders the human form.
pub fn print<T: Serialize>(
    output: Output,
    value: &T,
    table: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    match output {
        Output::Table => print!("{}", table(value)),
        Output::Json => println!("{}", serde_json::to_string_pretty(value)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::FieldDiff;

    #[test]
    fn table_shows_fields_that_differ_and_totals() {
        let changes = vec![
            Change {
                kind: "topic",
                name: "a".into(),
                action: Action::Create,
            },
            Change {
                kind: "subscription",
                name: "s".into(),
                action: Action::Update {
                    diffs: vec![FieldDiff {
                        field: "ack_deadline_secs",
                        live: "30".into(),
                        desired: "60".into(),
                    }],
                },
            },
        ];
        let table = plan_table(&changes);
        assert!(table.contains("create     topic a"), "{table}");
        assert!(table.contains("ack_deadline_secs: 30 -> 60"), "{table}");
        assert!(
            table.ends_with("1 to create, 1 to update, 0 to delete, 0 unchanged\n"),
            "{table}"
        );
    }

    #[test]
    fn table_warns_of_recreates_and_gives_the_reason_of_refusals() {
        let changes = vec![
            Change {
                kind: "subscription",
                name: "s".into(),
                action: Action::Recreate {
                    diffs: vec![FieldDiff {
                        field: "topic",
                        live: "a".into(),
                        desired: "b".into(),
                    }],
                    warning: "topic cannot change in place".into(),
                },
            },
            Change {
                kind: "topic",
                name: "t".into(),
                action: Action::Refused {
                    reason: "not ours".into(),
                },
            },
        ];
        let table = plan_table(&changes);
        assert!(table.contains("recreate   subscription s"), "{table}");
        assert!(table.contains("topic: a -> b"), "{table}");
        assert!(
            table.contains("WARNING: topic cannot change in place"),
            "{table}"
        );
        assert!(table.contains("refused    topic t"), "{table}");
        assert!(table.contains("not ours"), "{table}");
        assert!(table.contains("--allow-recreate"), "{table}");
        let json = serde_json::to_value(&changes).expect("json");
        assert_eq!(json[0]["action"], "recreate");
        assert_eq!(json[1]["action"], "refused");
        assert_eq!(json[1]["reason"], "not ours");
    }
}

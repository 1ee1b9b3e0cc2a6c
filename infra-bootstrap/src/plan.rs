//! The plan engine: desired specs against live specs, per resource one of create / update
//! (with the fields that differ) / unchanged / delete. Pure; the I/O lives in the stores.

use std::collections::BTreeMap;

use serde::Serialize;

/// A resource kind the plan compares. `fields` is the comparison: two specs with equal
/// fields are the same resource state.
pub trait Spec: Clone + Send + Sync + 'static {
    /// Kind shown in the output, e.g. `subscription`.
    const KIND: &'static str;
    /// Short resource id.
    fn name(&self) -> &str;
    /// Carries the `managed-by=groundskeeper` label (or our naming, where there are no labels).
    fn managed(&self) -> bool;
    /// Field name → printable value.
    fn fields(&self) -> BTreeMap<&'static str, String>;
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    pub field: &'static str,
    pub live: String,
    pub desired: String,
}

/// What apply will do to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    Create,
    Update { diffs: Vec<FieldDiff> },
    Unchanged,
    Delete,
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: &'static str,
    pub name: String,
    #[serde(flatten)]
    pub action: Action,
}

impl Change {
    /// True unless unchanged.
    pub fn is_change(&self) -> bool {
        self.action != Action::Unchanged
    }
}

/// Compares `desired` with `live`. Live resources absent from `desired` are deleted only
/// when they carry our label: a foreign resource is never touched.
pub fn diff<S: Spec>(desired: &[S], live: &[S]) -> Vec<Change> {
    let live_by_name: BTreeMap<&str, &S> = live.iter().map(|s| (s.name(), s)).collect();
    let mut changes: Vec<Change> = desired
        .iter()
        .map(|want| {
            let action = match live_by_name.get(want.name()) {
                None => Action::Create,
                Some(have) => {
                    let diffs = field_diffs(&have.fields(), &want.fields());
                    if diffs.is_empty() {
                        Action::Unchanged
                    } else {
                        Action::Update { diffs }
                    }
                }
            };
            Change {
                kind: S::KIND,
                name: want.name().to_owned(),
                action,
            }
        })
        .collect();
    changes.extend(
        live.iter()
            .filter(|have| have.managed() && !desired.iter().any(|w| w.name() == have.name()))
            .map(|have| Change {
                kind: S::KIND,
                name: have.name().to_owned(),
                action: Action::Delete,
            }),
    );
    changes
}

/// Every managed live resource, as deletions (what `destroy` does).
pub fn destroy<S: Spec>(live: &[S]) -> Vec<Change> {
    diff::<S>(&[], live)
}

fn field_diffs(
    live: &BTreeMap<&'static str, String>,
    desired: &BTreeMap<&'static str, String>,
) -> Vec<FieldDiff> {
    desired
        .iter()
        .filter_map(|(field, want)| {
            let have = live.get(field).cloned().unwrap_or_else(|| "-".into());
            (have != *want).then(|| FieldDiff {
                field,
                live: have,
                desired: want.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Thing {
        name: &'static str,
        size: u32,
        managed: bool,
    }

    impl Spec for Thing {
        const KIND: &'static str = "thing";
        fn name(&self) -> &str {
            self.name
        }
        fn managed(&self) -> bool {
            self.managed
        }
        fn fields(&self) -> BTreeMap<&'static str, String> {
            BTreeMap::from([("size", self.size.to_string())])
        }
    }

    fn thing(name: &'static str, size: u32, managed: bool) -> Thing {
        Thing {
            name,
            size,
            managed,
        }
    }

    fn action_of<'a>(changes: &'a [Change], name: &str) -> &'a Action {
        &changes
            .iter()
            .find(|c| c.name == name)
            .expect("change for name")
            .action
    }

    #[test]
    fn classifies_each_resource() {
        let desired = [
            thing("new", 1, true),
            thing("same", 2, true),
            thing("drifted", 3, true),
        ];
        let live = [
            thing("same", 2, true),
            thing("drifted", 9, true),
            thing("stale", 4, true),
            thing("foreign", 5, false),
        ];
        let changes = diff(&desired, &live);
        assert_eq!(action_of(&changes, "new"), &Action::Create);
        assert_eq!(action_of(&changes, "same"), &Action::Unchanged);
        assert_eq!(
            action_of(&changes, "drifted"),
            &Action::Update {
                diffs: vec![FieldDiff {
                    field: "size",
                    live: "9".into(),
                    desired: "3".into()
                }]
            }
        );
        assert_eq!(action_of(&changes, "stale"), &Action::Delete);
        assert!(
            changes.iter().all(|c| c.name != "foreign"),
            "foreign resources are never planned"
        );
        assert_eq!(changes.len(), 4);
    }

    #[test]
    fn destroy_removes_only_managed() {
        let live = [thing("ours", 1, true), thing("theirs", 1, false)];
        let changes = destroy(&live);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].name, "ours");
        assert_eq!(changes[0].action, Action::Delete);
    }

    #[test]
    fn json_names_the_action_and_fields() {
        let changes = diff(&[thing("a", 2, true)], &[thing("a", 1, true)]);
        let json = serde_json::to_value(&changes).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!([{"kind": "thing", "name": "a", "action": "update",
                "diffs": [{"field": "size", "live": "1", "desired": "2"}]}])
        );
    }
}

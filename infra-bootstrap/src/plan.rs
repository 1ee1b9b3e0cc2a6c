//! The plan engine: desired specs against live specs, per resource one of create / update
//! (with the fields that differ) / recreate / unchanged / delete / refused. Pure; the I/O
//! lives in the stores.

use std::collections::BTreeMap;

use events::labels::{MANAGED_BY, MANAGED_BY_VALUE};
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
    /// Fields the API cannot change in place: when one differs, the resource is deleted and
    /// created again.
    const RECREATE_ON: &'static [&'static str] = &[];
    /// What a re-create loses, for the plan's warning.
    const RECREATE_LOSES: &'static str = "its state";
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
    Update {
        diffs: Vec<FieldDiff>,
    },
    /// Delete and create again, because a field in [`Spec::RECREATE_ON`] differs. Destructive
    /// (a subscription loses its backlog): apply does it only when explicitly allowed.
    Recreate {
        diffs: Vec<FieldDiff>,
        warning: String,
    },
    Unchanged,
    Delete,
    /// A live resource of a name the manifest wants exists and is not ours: it is never
    /// changed or deleted, and apply fails naming it.
    Refused {
        reason: String,
    },
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

/// Compares `desired` with `live`. A foreign resource (without our label) is never touched:
/// absent from `desired` it is left out of the plan, under a name `desired` wants it is
/// [`Action::Refused`].
pub fn diff<S: Spec>(desired: &[S], live: &[S]) -> Vec<Change> {
    let live_by_name: BTreeMap<&str, &S> = live.iter().map(|s| (s.name(), s)).collect();
    let mut changes: Vec<Change> = desired
        .iter()
        .map(|want| {
            let action = match live_by_name.get(want.name()) {
                None => Action::Create,
                Some(have) if !have.managed() => Action::Refused {
                    reason: format!(
                        "exists without {MANAGED_BY}={MANAGED_BY_VALUE}: not groundskeeper's, \
                         never changed or deleted (rename ours in the manifest, or remove or \
                         label it by hand)"
                    ),
                },
                Some(have) => {
                    let diffs = field_diffs(&have.fields(), &want.fields());
                    let fixed: Vec<&str> = diffs
                        .iter()
                        .map(|d| d.field)
                        .filter(|f| S::RECREATE_ON.contains(f))
                        .collect();
                    if diffs.is_empty() {
                        Action::Unchanged
                    } else if !fixed.is_empty() {
                        let warning = format!(
                            "{} cannot change in place: apply deletes and re-creates {} {}, \
                             losing {}",
                            fixed.join(", "),
                            S::KIND,
                            want.name(),
                            S::RECREATE_LOSES
                        );
                        Action::Recreate { diffs, warning }
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
        home: &'static str,
    }

    impl Spec for Thing {
        const KIND: &'static str = "thing";
        const RECREATE_ON: &'static [&'static str] = &["home"];
        const RECREATE_LOSES: &'static str = "its contents";
        fn name(&self) -> &str {
            self.name
        }
        fn managed(&self) -> bool {
            self.managed
        }
        fn fields(&self) -> BTreeMap<&'static str, String> {
            BTreeMap::from([
                ("size", self.size.to_string()),
                ("home", self.home.to_owned()),
            ])
        }
    }

    fn thing(name: &'static str, size: u32, managed: bool) -> Thing {
        Thing {
            name,
            size,
            managed,
            home: "here",
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
    fn a_foreign_resource_under_a_wanted_name_is_refused_even_when_it_matches() {
        for live_size in [1, 7] {
            let changes = diff(
                &[thing("taken", 1, true)],
                &[thing("taken", live_size, false)],
            );
            let Action::Refused { reason } = action_of(&changes, "taken") else {
                panic!("expected refused: {changes:?}");
            };
            assert!(reason.contains("managed-by=groundskeeper"), "{reason}");
        }
    }

    #[test]
    fn a_field_that_cannot_change_in_place_makes_a_recreate_with_a_warning() {
        let want = thing("moved", 1, true);
        let have = Thing {
            home: "there",
            ..thing("moved", 2, true)
        };
        let changes = diff(&[want], &[have]);
        let Action::Recreate { diffs, warning } = action_of(&changes, "moved") else {
            panic!("expected recreate: {changes:?}");
        };
        assert_eq!(diffs.len(), 2, "every differing field is shown");
        assert!(
            warning.contains("home") && warning.contains("its contents"),
            "{warning}"
        );
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

//! The never-touch rule: production, unmanaged and excluded resources are left alone whatever
//! the budget's scope says; otherwise only resources of the budget's own tier are in scope.

use budget_guard::protect::{may_touch, never_touch, Skip, EXCLUDE_LABEL, EXCLUDE_VALUE};
use events::labels::{Labels, MANAGED_BY, MANAGED_BY_VALUE, TIER};
use events::Tier;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const MANAGED: (&str, &str) = (MANAGED_BY, MANAGED_BY_VALUE);

#[test]
fn a_managed_resource_of_the_budgets_tier_may_be_touched() {
    let dev = labels(&[MANAGED, (TIER, "dev"), ("environment", "pr-1")]);
    assert_eq!(never_touch(&dev), None);
    assert_eq!(may_touch(&dev, Tier::Dev), Ok(()));
    // Any other value of the exclusion label does not exclude.
    let kept = labels(&[MANAGED, (TIER, "dev"), (EXCLUDE_LABEL, "include")]);
    assert_eq!(may_touch(&kept, Tier::Dev), Ok(()));
}

#[test]
fn the_rule_holds_whatever_the_scope() {
    let cases = [
        (labels(&[MANAGED, (TIER, "prod")]), Skip::Prod),
        (labels(&[MANAGED, (TIER, "PROD")]), Skip::Prod),
        (labels(&[MANAGED, (TIER, " prod ")]), Skip::Prod),
        (labels(&[(TIER, "prod")]), Skip::Prod),
        (labels(&[(TIER, "dev")]), Skip::NotManaged),
        (
            labels(&[(MANAGED_BY, "someone-else"), (TIER, "dev")]),
            Skip::NotManaged,
        ),
        (
            labels(&[(MANAGED_BY, "Groundskeeper"), (TIER, "dev")]),
            Skip::NotManaged,
        ),
        (labels(&[]), Skip::NotManaged),
        (
            labels(&[MANAGED, (TIER, "dev"), (EXCLUDE_LABEL, EXCLUDE_VALUE)]),
            Skip::Excluded,
        ),
        (
            labels(&[MANAGED, (TIER, "dev"), (EXCLUDE_LABEL, "EXCLUDE")]),
            Skip::Excluded,
        ),
        // Prod wins over every other reason.
        (
            labels(&[(TIER, "prod"), (EXCLUDE_LABEL, EXCLUDE_VALUE)]),
            Skip::Prod,
        ),
    ];
    for (labels, reason) in cases {
        assert_eq!(never_touch(&labels), Some(reason.clone()), "{labels:?}");
        // Every scope, prod included (configuration refuses it, the rule does not rely on that).
        for scope in [Tier::Ephemeral, Tier::Dev, Tier::Staging, Tier::Prod] {
            assert_eq!(
                may_touch(&labels, scope),
                Err(reason.clone()),
                "{labels:?} in {scope}"
            );
        }
    }
}

#[test]
fn only_the_budgets_own_tier_is_in_scope() {
    let staging = labels(&[MANAGED, (TIER, "staging")]);
    assert_eq!(may_touch(&staging, Tier::Staging), Ok(()));
    for scope in [Tier::Ephemeral, Tier::Dev] {
        assert_eq!(
            may_touch(&staging, scope),
            Err(Skip::OutOfScope {
                scope,
                found: Some("staging".to_owned())
            })
        );
    }
    let untiered = labels(&[MANAGED]);
    assert_eq!(
        may_touch(&untiered, Tier::Dev),
        Err(Skip::OutOfScope {
            scope: Tier::Dev,
            found: None
        })
    );
    // Scope matches the tier exactly: no case folding that could widen it.
    let odd = labels(&[MANAGED, (TIER, "Dev")]);
    assert!(may_touch(&odd, Tier::Dev).is_err());
}

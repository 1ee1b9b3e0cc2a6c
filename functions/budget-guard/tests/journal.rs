//! The journal on a real control database: one winner per level however many deliveries
//! race, each level once per period, the first record of a resource's settings kept, and a
//! new period listing exactly what the previous one left suspended.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use budget_guard::config::BudgetKey;
use budget_guard::decide::Level;
use budget_guard::journal::{BudgetPeriod, Claim, Journal, Observed, Resource, ResourceState};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde_json::json;
use testbed::ServiceStack;

const LEASE: Duration = Duration::from_secs(600);

async fn journal() -> (ServiceStack, Journal) {
    let migrator =
        shared::migrations::control_migrator(&budget_guard::migrations::MIGRATOR).unwrap();
    let stack = ServiceStack::builder().migrations(migrator).build().await;
    let journal = Journal::new(stack.control.clone());
    (stack, journal)
}

fn budget(id: &str) -> BudgetKey {
    BudgetKey {
        billing_account: "01A2B3-C4D5E6-F7A8B9".to_owned(),
        budget_id: id.to_owned(),
    }
}

fn period(id: &str, start: &str) -> BudgetPeriod {
    BudgetPeriod {
        budget: budget(id),
        start: start.parse::<DateTime<Utc>>().unwrap(),
    }
}

fn resource(name: &str) -> Resource {
    Resource {
        kind: "cloud-run-service".to_owned(),
        name: format!("projects/p/locations/r/services/{name}"),
    }
}

/// Claims and completes `level` as delivery `by`, returning the claim.
async fn apply(journal: &Journal, p: &BudgetPeriod, level: Level, by: &str) -> Claim {
    let claim = journal.claim_level(p, level, by, LEASE, 1.0).await.unwrap();
    if matches!(claim, Claim::Won { .. }) {
        assert!(journal.complete_level(p, level, by).await.unwrap());
    }
    claim
}

/// Claims `level` from deliveries `prefix-N` for every N in `ids`, all at once.
async fn race(
    journal: &Journal,
    p: &BudgetPeriod,
    level: Level,
    prefix: &str,
    ids: std::ops::Range<u32>,
) -> Vec<Claim> {
    join_all(ids.map(|i| {
        let by = format!("{prefix}-{i}");
        async move {
            journal
                .claim_level(p, level, &by, LEASE, 1.0)
                .await
                .unwrap()
        }
    }))
    .await
}

#[tokio::test]
async fn twenty_concurrent_claims_of_one_level_have_exactly_one_winner() {
    let (_stack, journal) = journal().await;
    let p = period("b1", "2026-11-01T00:00:00Z");
    let claims = race(&journal, &p, Level::Cap, "delivery", 0..20).await;
    let won: Vec<_> = claims
        .iter()
        .filter(|c| matches!(c, Claim::Won { previous: None }))
        .collect();
    let busy = claims
        .iter()
        .filter(|c| {
            matches!(
                c,
                Claim::Busy {
                    level: Level::Cap,
                    ..
                }
            )
        })
        .count();
    assert_eq!((won.len(), busy), (1, 19), "{claims:?}");

    // The winner completes; 20 more racing deliveries find the level reached.
    let winner = claims
        .iter()
        .position(|c| matches!(c, Claim::Won { .. }))
        .unwrap();
    assert!(journal
        .complete_level(&p, Level::Cap, &format!("delivery-{winner}"))
        .await
        .unwrap());
    let again = race(&journal, &p, Level::Cap, "delivery", 20..40).await;
    assert!(
        again.iter().all(|c| *c == Claim::Reached(Level::Cap)),
        "{again:?}"
    );
}

#[tokio::test]
async fn twenty_concurrent_takeovers_of_an_expired_lease_have_exactly_one_winner() {
    let (_stack, journal) = journal().await;
    let p = period("b1", "2026-11-01T00:00:00Z");
    // A delivery claimed stop and crashed: its lease (zero) has run out.
    let crashed = journal
        .claim_level(&p, Level::Stop, "crashed", Duration::ZERO, 1.2)
        .await
        .unwrap();
    assert_eq!(crashed, Claim::Won { previous: None });
    let claims = race(&journal, &p, Level::Stop, "redelivery", 0..20).await;
    let won = claims
        .iter()
        .filter(|c| matches!(c, Claim::Won { previous: None }))
        .count();
    let busy = claims
        .iter()
        .filter(|c| {
            matches!(
                c,
                Claim::Busy {
                    level: Level::Stop,
                    ..
                }
            )
        })
        .count();
    assert_eq!((won, busy), (1, 19), "{claims:?}");
}

#[tokio::test]
async fn escalation_gives_each_level_once_with_its_delta() {
    let (_stack, journal) = journal().await;
    let p = period("b1", "2026-11-01T00:00:00Z");
    assert_eq!(
        apply(&journal, &p, Level::Notify, "n1").await,
        Claim::Won { previous: None }
    );
    assert_eq!(
        apply(&journal, &p, Level::Notify, "n2").await,
        Claim::Reached(Level::Notify)
    );
    assert_eq!(
        apply(&journal, &p, Level::Cap, "c1").await,
        Claim::Won {
            previous: Some(Level::Notify)
        }
    );
    // Late data: a lower or equal level later in the period does nothing.
    assert_eq!(
        apply(&journal, &p, Level::Notify, "n3").await,
        Claim::Reached(Level::Cap)
    );
    assert_eq!(
        apply(&journal, &p, Level::Cap, "c2").await,
        Claim::Reached(Level::Cap)
    );
    assert_eq!(
        apply(&journal, &p, Level::Stop, "s1").await,
        Claim::Won {
            previous: Some(Level::Cap)
        }
    );
    for (level, by) in [
        (Level::Notify, "n4"),
        (Level::Cap, "c3"),
        (Level::Stop, "s2"),
    ] {
        assert_eq!(
            apply(&journal, &p, level, by).await,
            Claim::Reached(Level::Stop)
        );
    }
    assert_eq!(
        journal.completed_level(&p).await.unwrap(),
        Some(Level::Stop)
    );

    // Another period of the same budget, and another budget, start from nothing.
    let next = period("b1", "2026-12-01T00:00:00Z");
    assert_eq!(
        apply(&journal, &next, Level::Cap, "c4").await,
        Claim::Won { previous: None }
    );
    let other = period("b2", "2026-11-01T00:00:00Z");
    assert_eq!(
        apply(&journal, &other, Level::Notify, "n5").await,
        Claim::Won { previous: None }
    );
}

#[tokio::test]
async fn a_crashed_claim_is_resumed_by_its_redelivery_or_after_its_lease() {
    let (_stack, journal) = journal().await;
    let p = period("b1", "2026-11-01T00:00:00Z");
    assert_eq!(
        apply(&journal, &p, Level::Notify, "n1").await,
        Claim::Won { previous: None }
    );
    let claim = journal
        .claim_level(&p, Level::Cap, "a", LEASE, 0.9)
        .await
        .unwrap();
    assert_eq!(
        claim,
        Claim::Won {
            previous: Some(Level::Notify)
        }
    );
    // While "a" holds the lease, a higher level waits too: it must not skip cap's resources.
    let busy = Claim::Busy {
        level: Level::Cap,
        by: "a".to_owned(),
    };
    assert_eq!(
        journal
            .claim_level(&p, Level::Stop, "b", LEASE, 1.1)
            .await
            .unwrap(),
        busy
    );
    // The same message, redelivered after a crash, resumes at once.
    let resumed = journal
        .claim_level(&p, Level::Cap, "a", Duration::ZERO, 0.9)
        .await
        .unwrap();
    assert_eq!(
        resumed,
        Claim::Won {
            previous: Some(Level::Notify)
        }
    );
    // Its lease (zero) has run out: another delivery takes over, the old holder cannot complete.
    let taken = journal
        .claim_level(&p, Level::Cap, "b", LEASE, 0.9)
        .await
        .unwrap();
    assert_eq!(
        taken,
        Claim::Won {
            previous: Some(Level::Notify)
        }
    );
    assert!(!journal.complete_level(&p, Level::Cap, "a").await.unwrap());
    assert!(journal.complete_level(&p, Level::Cap, "b").await.unwrap());
    assert_eq!(journal.completed_level(&p).await.unwrap(), Some(Level::Cap));
}

#[tokio::test]
async fn the_first_record_of_a_resources_settings_is_kept() {
    let (_stack, journal) = journal().await;
    let p = period("b1", "2026-11-01T00:00:00Z");
    journal
        .claim_level(&p, Level::Cap, "c1", LEASE, 0.8)
        .await
        .unwrap();
    let svc = resource("api");
    let original = json!({"min_instance_count": 2, "max_instance_count": 10});
    let first = journal.record_previous(&p, &svc, &original).await.unwrap();
    assert_eq!(
        (first.previous.clone(), first.state),
        (original.clone(), ResourceState::Recorded)
    );
    let capped = json!({"min_instance_count": 0, "max_instance_count": 1});
    assert!(journal
        .mark_applied(&p, &svc, &capped, Level::Cap)
        .await
        .unwrap());

    // Escalation (or a redelivery) reads the capped settings and records them again: ignored.
    let second = journal.record_previous(&p, &svc, &capped).await.unwrap();
    assert_eq!(second.previous, original);
    assert_eq!(
        (second.state, second.level),
        (ResourceState::Applied, Some(Level::Cap))
    );
    let stopped = json!({"min_instance_count": 0, "max_instance_count": 0});
    assert!(journal
        .mark_applied(&p, &svc, &stopped, Level::Stop)
        .await
        .unwrap());

    // Concurrent first records of another resource: all see one and the same stored value.
    let db = resource("db");
    let seen = join_all((0..10).map(|i| {
        let (journal, p, db) = (journal.clone(), p.clone(), db.clone());
        async move {
            journal
                .record_previous(&p, &db, &json!({"n": i}))
                .await
                .unwrap()
                .previous
        }
    }))
    .await;
    assert!(seen.iter().all(|v| *v == seen[0]), "{seen:?}");

    let suspended = journal.suspended(&p).await.unwrap();
    assert_eq!(suspended.len(), 1, "db was only recorded, never applied");
    assert_eq!(
        (suspended[0].previous.clone(), suspended[0].applied.clone()),
        (original, Some(stopped))
    );
    assert_eq!(suspended[0].level, Some(Level::Stop));
    assert!(suspended[0].applied_at.is_some());
}

#[tokio::test]
async fn a_new_period_lists_exactly_what_the_previous_left_suspended() {
    let (_stack, journal) = journal().await;
    let old = period("b1", "2026-11-01T00:00:00Z");
    let new = period("b1", "2026-12-01T00:00:00Z");
    let other = period("b2", "2026-11-01T00:00:00Z");
    for p in [&old, &new, &other] {
        journal
            .claim_level(p, Level::Cap, "c", LEASE, 0.8)
            .await
            .unwrap();
    }
    let settings = json!({"max_instance_count": 5});
    let applied = json!({"max_instance_count": 1});
    for (p, name, apply) in [
        (&old, "a", true),
        (&old, "b", true),
        (&old, "recorded-only", false),
        (&old, "restored", true),
        (&old, "conflict", true),
        (&new, "this-period", true),
        (&other, "other-budget", true),
    ] {
        journal
            .record_previous(p, &resource(name), &settings)
            .await
            .unwrap();
        if apply {
            assert!(journal
                .mark_applied(p, &resource(name), &applied, Level::Cap)
                .await
                .unwrap());
        }
    }
    assert!(journal
        .mark_restored(&old, &resource("restored"))
        .await
        .unwrap());
    assert!(journal
        .mark_conflict(&old, &resource("conflict"), "max changed to 7")
        .await
        .unwrap());
    // Neither applies twice, nor to a resource that is not suspended.
    assert!(!journal
        .mark_restored(&old, &resource("restored"))
        .await
        .unwrap());
    assert!(!journal
        .mark_restored(&old, &resource("recorded-only"))
        .await
        .unwrap());
    assert!(!journal
        .mark_conflict(&old, &resource("restored"), "late")
        .await
        .unwrap());

    let names = |records: Vec<budget_guard::journal::ResourceRecord>| {
        records
            .into_iter()
            .map(|r| (r.period_start, r.resource.name))
            .collect::<Vec<_>>()
    };
    let to_restore = journal.to_restore(&new.budget, new.start).await.unwrap();
    assert_eq!(
        names(to_restore),
        vec![
            (old.start, resource("a").name),
            (old.start, resource("b").name)
        ]
    );
    let this_period = journal.suspended(&new).await.unwrap();
    assert_eq!(
        names(this_period),
        vec![(new.start, resource("this-period").name)]
    );

    assert!(journal.mark_restored(&old, &resource("a")).await.unwrap());
    let left = journal.to_restore(&new.budget, new.start).await.unwrap();
    assert_eq!(names(left), vec![(old.start, resource("b").name)]);
}

#[tokio::test]
async fn a_late_notification_of_an_earlier_period_is_stale() {
    let (_stack, journal) = journal().await;
    let nov = period("b1", "2026-11-01T00:00:00Z");
    let dec = period("b1", "2026-12-01T00:00:00Z");
    assert_eq!(journal.observe(&nov, 0.2).await.unwrap(), Observed::Current);
    // Observing is not claiming: a level of the period is still won once.
    assert_eq!(
        apply(&journal, &nov, Level::Cap, "c1").await,
        Claim::Won { previous: None }
    );
    // December starts below every level; November's late data must not suspend again.
    assert_eq!(
        journal.observe(&dec, 0.01).await.unwrap(),
        Observed::Current
    );
    let stale = Observed::Stale { latest: dec.start };
    assert_eq!(journal.observe(&nov, 1.3).await.unwrap(), stale);
    let claim = journal
        .claim_level(&nov, Level::Stop, "s1", LEASE, 1.3)
        .await
        .unwrap();
    assert_eq!(claim, Claim::Stale { latest: dec.start });
    // Another budget's periods are its own.
    let other = period("b2", "2026-11-01T00:00:00Z");
    assert_eq!(
        apply(&journal, &other, Level::Stop, "s2").await,
        Claim::Won { previous: None }
    );
}

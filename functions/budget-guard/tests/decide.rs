//! The decision from one notification: figures checked and named, the budget authenticated
//! against `BUDGETS`, the level from the spend ratio of every notification, forecasts only
//! reported, currencies and amount types passed through.
#![allow(clippy::unwrap_used)]

use budget_guard::config::Config;
use budget_guard::decide::{decide, Level, Rejection};
use events::budget::{BudgetData, BudgetNotification};
use events::Tier;
use shared::env::Env;

const ACCOUNT: &str = "01A2B3-C4D5E6-F7A8B9";

fn config() -> Config {
    let budgets = format!("{ACCOUNT}/dev-budget=dev,{ACCOUNT}/staging-budget=staging");
    Config::from_env(&Env::from_pairs([("BUDGETS", budgets)])).unwrap()
}

fn notification(budget_id: &str, cost: f64, budget: f64) -> BudgetNotification {
    BudgetNotification {
        billing_account_id: ACCOUNT.to_owned(),
        budget_id: budget_id.to_owned(),
        schema_version: Some("1.0".to_owned()),
        data: BudgetData {
            budget_display_name: "groundskeeper-dev".to_owned(),
            alert_threshold_exceeded: None,
            forecast_threshold_exceeded: None,
            cost_amount: cost,
            cost_interval_start: "2026-11-01T07:00:00Z".parse().unwrap(),
            budget_amount: budget,
            budget_amount_type: "SPECIFIED_AMOUNT".to_owned(),
            currency_code: "EUR".to_owned(),
        },
    }
}

#[test]
fn the_level_comes_from_the_spend_ratio_with_exact_boundaries() {
    let cases = [
        (0.0, None),
        (49.99, None),
        (50.0, Some(Level::Notify)),
        (79.99, Some(Level::Notify)),
        (80.0, Some(Level::Cap)),
        (99.99, Some(Level::Cap)),
        (100.0, Some(Level::Stop)),
        (250.0, Some(Level::Stop)),
        // Credits can make cost negative: below every step, not an error.
        (-5.0, None),
    ];
    for (cost, level) in cases {
        let d = decide(&notification("dev-budget", cost, 100.0), &config()).unwrap();
        assert_eq!(d.level, level, "cost {cost} of 100");
        assert_eq!(d.spend_ratio, cost / 100.0);
        assert_eq!(d.scope, Tier::Dev);
    }
}

#[test]
fn the_threshold_field_neither_raises_nor_lowers_the_level() {
    // Status updates carry no threshold; a crossing's field may lag the figures.
    let mut n = notification("dev-budget", 85.0, 100.0);
    n.data.alert_threshold_exceeded = Some(0.5);
    assert_eq!(decide(&n, &config()).unwrap().level, Some(Level::Cap));
    let mut n = notification("dev-budget", 10.0, 100.0);
    n.data.alert_threshold_exceeded = Some(1.0);
    assert_eq!(decide(&n, &config()).unwrap().level, None);
}

#[test]
fn a_forecast_is_reported_and_never_raises_the_level() {
    let mut n = notification("dev-budget", 60.0, 100.0);
    n.data.forecast_threshold_exceeded = Some(1.2);
    let d = decide(&n, &config()).unwrap();
    assert_eq!(
        (d.level, d.forecast_threshold),
        (Some(Level::Notify), Some(1.2))
    );
    let mut n = notification("dev-budget", 10.0, 100.0);
    n.data.forecast_threshold_exceeded = Some(1.0);
    let d = decide(&n, &config()).unwrap();
    assert_eq!((d.level, d.forecast_threshold), (None, Some(1.0)));
}

#[test]
fn bad_figures_are_rejected_naming_the_field() {
    let cases = [
        (1.0, 0.0, "budgetAmount"),
        (1.0, -0.0, "budgetAmount"),
        (1.0, -100.0, "budgetAmount"),
        (1.0, f64::NAN, "budgetAmount"),
        (1.0, f64::INFINITY, "budgetAmount"),
        (1.0, f64::NEG_INFINITY, "budgetAmount"),
        // Finite figures whose ratio overflows.
        (1e308, 1e-308, "budgetAmount"),
        (f64::NAN, 100.0, "costAmount"),
        (f64::INFINITY, 100.0, "costAmount"),
        (f64::NEG_INFINITY, 100.0, "costAmount"),
    ];
    for (cost, budget, field) in cases {
        let err = decide(&notification("dev-budget", cost, budget), &config()).unwrap_err();
        assert!(
            matches!(err, Rejection::BadAmount { field: f, .. } if f == field),
            "cost {cost}, budget {budget}: {err:?}"
        );
        assert!(err.to_string().starts_with(field), "{err}");
    }
}

#[test]
fn an_unconfigured_budget_or_account_is_rejected_before_its_figures_are_read() {
    let mut other_account = notification("dev-budget", 500.0, 100.0);
    other_account.billing_account_id = "FFFFFF-FFFFFF-FFFFFF".to_owned();
    for n in [
        notification("unknown", 500.0, 100.0),
        notification("unknown", f64::NAN, 0.0),
        other_account,
    ] {
        let err = decide(&n, &config()).unwrap_err();
        assert!(matches!(err, Rejection::UnknownBudget { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("not a configured budget"),
            "{err}"
        );
    }
}

#[test]
fn currency_amount_type_and_period_pass_through_untouched() {
    let mut n = notification("staging-budget", 90_000.0, 100_000.0);
    n.data.currency_code = "JPY".to_owned();
    n.data.budget_amount_type = "SOMETHING_NEW".to_owned();
    let d = decide(&n, &config()).unwrap();
    assert_eq!(
        (d.currency.as_str(), d.cost_amount, d.budget_amount),
        ("JPY", 90_000.0, 100_000.0)
    );
    assert_eq!(d.budget_amount_type, "SOMETHING_NEW");
    assert_eq!((d.scope, d.level), (Tier::Staging, Some(Level::Cap)));
    assert_eq!(d.period_start, n.data.cost_interval_start);
    assert_eq!(d.budget.to_string(), format!("{ACCOUNT}/staging-budget"));
}

#[test]
fn a_configured_ladder_moves_the_steps() {
    let env = Env::from_pairs([
        ("BUDGETS", format!("{ACCOUNT}/dev-budget=dev")),
        ("LADDER_NOTIFY", "0.9".to_owned()),
        ("LADDER_CAP", "1.5".to_owned()),
        ("LADDER_STOP", "2".to_owned()),
    ]);
    let cfg = Config::from_env(&env).unwrap();
    let level = |cost| {
        decide(&notification("dev-budget", cost, 100.0), &cfg)
            .unwrap()
            .level
    };
    assert_eq!(level(89.0), None);
    assert_eq!(level(100.0), Some(Level::Notify));
    assert_eq!(level(150.0), Some(Level::Cap));
    assert_eq!(level(200.0), Some(Level::Stop));
}

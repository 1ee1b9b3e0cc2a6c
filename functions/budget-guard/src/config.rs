//! budget-guard's own settings (the runtime reads the rest), read once at start.

use std::collections::BTreeMap;
use std::time::Duration;

use events::Tier;
use secrecy::SecretString;
use shared::env::{ConfigError, Env};

/// A Cloud Billing budget, as a notification names it in its attributes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BudgetKey {
    /// Attribute `billingAccountId`, e.g. `01A2B3-C4D5E6-F7A8B9`.
    pub billing_account: String,
    /// Attribute `budgetId`: the last segment of `billingAccounts/X/budgets/ID`.
    pub budget_id: String,
}

impl std::fmt::Display for BudgetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.billing_account, self.budget_id)
    }
}

/// The spend ratios (cost / budget) at which each level starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ladder {
    /// `LADDER_NOTIFY` (default 0.5): notify, nothing scaled.
    pub notify: f64,
    /// `LADDER_CAP` (default 0.8): Cloud Run capped, environments' databases suspended.
    pub cap: f64,
    /// `LADDER_STOP` (default 1.0): Cloud SQL stopped, Cloud Run at its floor.
    pub stop: f64,
}

/// Every setting, with its variable in the README's table.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BUDGETS`: the budgets acted on, each with the tier it was created for. A notification
    /// naming any other (billing account, budget) pair is forged or foreign: rejected.
    pub budgets: BTreeMap<BudgetKey, Tier>,
    /// `LADDER_NOTIFY` / `LADDER_CAP` / `LADDER_STOP`.
    pub ladder: Ladder,
    /// `CAP_MAX_INSTANCES` (default 1): the Cloud Run service-level `max_instance_count` at cap.
    pub cap_max_instances: u32,
    /// `DRY_RUN`: decide and report the plan, change nothing.
    pub dry_run: bool,
    /// `CLOUD_RUN_LOCATIONS`: where the Cloud Run services in scope are listed
    /// (`projects/{project}/locations/{region}`, comma-separated); none: no Cloud Run.
    pub cloud_run_locations: Vec<String>,
    /// `CLOUD_SQL_PROJECTS`: the projects whose Cloud SQL instances are in scope; none: no
    /// Cloud SQL.
    pub cloud_sql_projects: Vec<String>,
    /// `MANAGED_DATABASE_URL`: the server environments' databases live on (its admin role);
    /// unset: no database is suspended.
    pub managed_database_url: Option<SecretString>,
    /// `LEVEL_LEASE_SECS` (default 300): how long a delivery applying a level holds it before
    /// a redelivery may take it over; longer than the service's request timeout.
    pub lease: Duration,
    /// `PERIOD_MAX_AHEAD_HOURS` (default 24): how far after now a notification's period may
    /// start (clock skew) before it is refused as forged. Only the local stack raises it, so
    /// its tour can play a new month.
    pub period_ahead: chrono::TimeDelta,
}

impl Config {
    /// Reads and checks the settings; the error names the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut budgets = BTreeMap::new();
        for entry in env.list("BUDGETS") {
            let (key, tier) = parse_budget(&entry).map_err(|e| ConfigError::new("BUDGETS", e))?;
            if budgets.insert(key.clone(), tier).is_some() {
                return Err(ConfigError::new(
                    "BUDGETS",
                    format!("{key} is listed twice"),
                ));
            }
        }
        let cap_max_instances = env.parse_or("CAP_MAX_INSTANCES", 1u32)?;
        if cap_max_instances == 0 {
            // 0 would stop the service at cap; stopping is the next level's job.
            return Err(ConfigError::new("CAP_MAX_INSTANCES", "must be at least 1"));
        }
        let cloud_run_locations = env.list("CLOUD_RUN_LOCATIONS");
        for location in &cloud_run_locations {
            if !matches!(location.split('/').collect::<Vec<_>>()[..],
                ["projects", p, "locations", r] if !p.is_empty() && !r.is_empty())
            {
                return Err(ConfigError::new(
                    "CLOUD_RUN_LOCATIONS",
                    format!("{location:?}: expected projects/PROJECT/locations/REGION"),
                ));
            }
        }
        let cloud_sql_projects = env.list("CLOUD_SQL_PROJECTS");
        if let Some(bad) = cloud_sql_projects
            .iter()
            .find(|p| p.contains('/') || p.is_empty())
        {
            return Err(ConfigError::new(
                "CLOUD_SQL_PROJECTS",
                format!("{bad:?}: expected a project id"),
            ));
        }
        let lease = env.parse_or("LEVEL_LEASE_SECS", 300u64)?;
        if lease == 0 {
            return Err(ConfigError::new("LEVEL_LEASE_SECS", "must be at least 1"));
        }
        let period_ahead = env.parse_or("PERIOD_MAX_AHEAD_HOURS", 24i64)?;
        let period_ahead = (0..=24 * 3660)
            .contains(&period_ahead)
            .then(|| chrono::TimeDelta::hours(period_ahead))
            .ok_or_else(|| ConfigError::new("PERIOD_MAX_AHEAD_HOURS", "must be 0 to 87840"))?;
        Ok(Self {
            budgets,
            period_ahead,
            ladder: ladder(env)?,
            cap_max_instances,
            dry_run: env.switch("DRY_RUN")?.unwrap_or(false),
            cloud_run_locations,
            cloud_sql_projects,
            managed_database_url: env.optional("MANAGED_DATABASE_URL").map(SecretString::from),
            lease: Duration::from_secs(lease),
        })
    }

    /// The tier a configured budget was created for; `None` for any other budget.
    pub fn scope_of(&self, billing_account: &str, budget_id: &str) -> Option<Tier> {
        let key = BudgetKey {
            billing_account: billing_account.to_owned(),
            budget_id: budget_id.to_owned(),
        };
        self.budgets.get(&key).copied()
    }
}

/// One `BUDGETS` entry: `ACCOUNT/BUDGET_ID=TIER`, or the Budgets API's resource name
/// `billingAccounts/ACCOUNT/budgets/BUDGET_ID=TIER` (what `infra-bootstrap apply` creates).
fn parse_budget(entry: &str) -> Result<(BudgetKey, Tier), String> {
    let form = "expected BILLING_ACCOUNT/BUDGET_ID=TIER";
    let (budget, tier) = entry
        .split_once('=')
        .ok_or_else(|| format!("{entry:?}: {form}"))?;
    let parts: Vec<&str> = budget.trim().split('/').collect();
    let (account, id) = match parts.as_slice() {
        [account, id] => (*account, *id),
        ["billingAccounts", account, "budgets", id] => (*account, *id),
        _ => return Err(format!("{entry:?}: {form}")),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !ok(account) || !ok(id) {
        return Err(format!(
            "{entry:?}: the account and budget id must be non-empty letters, digits, - or _"
        ));
    }
    let tier: Tier = tier.trim().parse().map_err(|e| format!("{entry:?}: {e}"))?;
    if tier == Tier::Prod {
        return Err(format!(
            "{entry:?}: tier prod is never downscaled; leave prod budgets out"
        ));
    }
    let key = BudgetKey {
        billing_account: account.to_owned(),
        budget_id: id.to_owned(),
    };
    Ok((key, tier))
}

fn ladder(env: &Env) -> Result<Ladder, ConfigError> {
    let step = |name: &str, default: f64, above: Option<(&str, f64)>| {
        let value: f64 = env.parse_or(name, default)?;
        if !value.is_finite() || value <= 0.0 {
            return Err(ConfigError::new(
                name,
                "must be a finite ratio above 0, e.g. 0.8",
            ));
        }
        match above {
            Some((lower, floor)) if value <= floor => Err(ConfigError::new(
                name,
                format!("must be greater than {lower} ({floor})"),
            )),
            _ => Ok(value),
        }
    };
    let notify = step("LADDER_NOTIFY", 0.5, None)?;
    let cap = step("LADDER_CAP", 0.8, Some(("LADDER_NOTIFY", notify)))?;
    let stop = step("LADDER_STOP", 1.0, Some(("LADDER_CAP", cap)))?;
    Ok(Ladder { notify, cap, stop })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_are_the_platform_budgets_thresholds() {
        let cfg = config(&[]).expect("config");
        assert_eq!(
            cfg.ladder,
            Ladder {
                notify: 0.5,
                cap: 0.8,
                stop: 1.0
            }
        );
        assert_eq!((cfg.cap_max_instances, cfg.dry_run), (1, false));
        assert!(cfg.budgets.is_empty());
    }

    #[test]
    fn budgets_in_both_forms_map_to_their_tier() {
        let cfg = config(&[(
            "BUDGETS",
            "01A2B3-C4D5E6-F7A8B9/b-dev=dev, billingAccounts/01A2B3-C4D5E6-F7A8B9/budgets/b-stg=staging",
        )])
        .expect("config");
        assert_eq!(
            cfg.scope_of("01A2B3-C4D5E6-F7A8B9", "b-dev"),
            Some(Tier::Dev)
        );
        assert_eq!(
            cfg.scope_of("01A2B3-C4D5E6-F7A8B9", "b-stg"),
            Some(Tier::Staging)
        );
        assert_eq!(cfg.scope_of("OTHER", "b-dev"), None);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("BUDGETS", "acct/b=prod"),
            ("BUDGETS", "acct/b=qa"),
            ("BUDGETS", "acct-b=dev"),
            ("BUDGETS", "acct/b/c=dev"),
            ("BUDGETS", "acct/=dev"),
            ("BUDGETS", "acct/b=dev,acct/b=staging"),
            ("LADDER_NOTIFY", "NaN"),
            ("LADDER_NOTIFY", "0"),
            ("LADDER_CAP", "0.5"),
            ("LADDER_STOP", "inf"),
            ("LADDER_STOP", "0.7"),
            ("CAP_MAX_INSTANCES", "0"),
            ("DRY_RUN", "perhaps"),
            ("CLOUD_RUN_LOCATIONS", "projects/p/regions/r"),
            ("CLOUD_SQL_PROJECTS", "projects/p"),
            ("LEVEL_LEASE_SECS", "0"),
            ("PERIOD_MAX_AHEAD_HOURS", "-1"),
        ] {
            let err = config(&[(name, value)]).expect_err(value);
            assert_eq!(err.name, name, "{value}");
        }
    }

    #[test]
    fn prod_is_refused_with_the_reason() {
        let err = config(&[("BUDGETS", "acct/b=prod")]).expect_err("prod");
        assert!(err.reason.contains("never downscaled"), "{err}");
    }
}

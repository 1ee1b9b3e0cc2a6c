//! `groundskeeper budget …`: what budget-guard holds suspended (read through its own status
//! API, so the CLI shows exactly the service's journal), and a person's early resume
//! (published to its `budget-requests` topic, as `backup now` publishes to backup-runner's).

mod status;

use clap::Subcommand;
use events::downscale::ResumeRequested;

pub use status::{status_rows, status_table, StatusRow, SuspendedRow};

use super::publish;
use super::target::Target;
use crate::output::{self, Output};

/// `groundskeeper budget …`.
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Every budget's latest period: spend, level reached, level being applied, early
    /// resume, and what is suspended since when (from the control database).
    Status,
    /// Put back now what BUDGET suspended, before its period ends; nothing more is applied
    /// for it until the next period. Prints the message id. There is no `--wait`: the outcome
    /// is `downscale.resumed` on the events topic; `budget status` shows the result.
    Resume {
        /// `ACCOUNT/ID` or `billingAccounts/ACCOUNT/budgets/ID`.
        #[arg(value_parser = budget_key)]
        budget: (String, String),
    },
}

/// Runs a `budget` command on `target`; `user` is who asks (`$USER`), for the record.
pub async fn run(
    target: &Target,
    command: BudgetCommand,
    user: Option<String>,
    out: Output,
) -> anyhow::Result<()> {
    match command {
        BudgetCommand::Status => {
            let pool = target.control_db().await?;
            let rows = status_rows(&pool).await?;
            output::print(out, &rows, |rows| status_table(rows))
        }
        BudgetCommand::Resume {
            budget: (billing_account, budget_id),
        } => {
            let request = ResumeRequested {
                billing_account,
                budget_id,
                requested_by: user,
            };
            let id = publish::send_typed(&target.publisher()?, &request).await?;
            super::sent(out, &id, <ResumeRequested as events::TypedEvent>::TYPE)
        }
    }
}

/// `ACCOUNT/ID` or the budget's resource name `billingAccounts/ACCOUNT/budgets/ID`, as
/// (billing account, budget id); the parts themselves are checked by the request's own
/// validation before anything is published.
pub fn budget_key(s: &str) -> Result<(String, String), String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (account, id) = match parts[..] {
        [account, id] => (account, id),
        ["billingAccounts", account, "budgets", id] => (account, id),
        _ => {
            return Err(format!(
                "{s:?} is neither ACCOUNT/ID nor billingAccounts/ACCOUNT/budgets/ID"
            ))
        }
    };
    if account.is_empty() || id.is_empty() {
        return Err(format!(
            "{s:?}: the billing account and the budget id are required"
        ));
    }
    Ok((account.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_named_short_or_by_its_resource_name() {
        let want = ("01A2B3-C4D5E6-F7A8B9".to_owned(), "b-1".to_owned());
        assert_eq!(budget_key("01A2B3-C4D5E6-F7A8B9/b-1"), Ok(want.clone()));
        assert_eq!(
            budget_key("billingAccounts/01A2B3-C4D5E6-F7A8B9/budgets/b-1"),
            Ok(want)
        );
        for bad in [
            "b-1",
            "a/b/c",
            "/b-1",
            "a/",
            "billingAccounts/a/budget/b",
            "",
        ] {
            assert!(budget_key(bad).is_err(), "{bad:?} accepted");
        }
    }
}
